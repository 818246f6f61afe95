"""A run's summary as rows of ``run_summary``, one per key: a batch reads and writes only the keys
it touches, however many the run has (``schema/summary.py`` says what the values are)."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trackwell.schema.summary import KeyStats
from trackwell.store.metadata._engine import dumps
from trackwell.store.metadata._tables import NullableJson, run_summary

_S = run_summary.c
_STATS = ("count", "sum", "min", "max", "last", "last_step")
_CHUNK = 500  # runs per IN (...): well under SQLite's bound-parameter limit
KEEP: Any = object()  # a row's value stays as stored (a new row: not in the summary)
ABSENT: Any = object()  # the key is not in the summary


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (same API on SQLite and PostgreSQL)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


@dataclass(slots=True)
class KeyRow:
    """What a batch needs of a stored key: its pin and its numeric statistics."""

    pinned: bool = False
    stats: KeyStats | None = None


# A wide batch touches thousands of keys: these statements go to the driver as they are, the
# keys as one JSON array (SQLite) or array parameter (PostgreSQL), the rows in one executemany
# (SQLite) or one INSERT ... SELECT FROM unnest (PostgreSQL). SQLAlchemy's per-row parameter
# processing cost more than the database's work.
_VALUE = ("value", "kind", "num", "text")
_COLUMNS = ("run_pk", "key", *_VALUE, "pinned", *_STATS)
_SELECT = "SELECT key, pinned, count, sum, min, max, last, last_step FROM run_summary WHERE run_pk = {}"
_SOME_KEYS = {"sqlite": " AND key IN (SELECT value FROM json_each(?))", "postgresql": " AND key = ANY(%s)"}
# From this many keys on, reading the run's whole range (clustered by key) and skipping the rows
# the batch does not have beats looking keys up one by one (~5x for a 10,000-key batch).
_WHOLE_RUN = 2000
_PG_ARRAYS = {"key": "text[]", "value": "text[]::jsonb[]", "kind": "int[]", "num": "float8[]", "text": "text[]",
              "pinned": "bool[]", "count": "bigint[]",
              "sum": "float8[]", "min": "float8[]", "max": "float8[]", "last": "float8[]", "last_step": "bigint[]"}


def _upsert(dialect: str, with_value: bool) -> str:
    columns = [c for c in _COLUMNS if with_value or c not in _VALUE]
    names = ", ".join(columns)
    conflict = "ON CONFLICT (run_pk, key) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    if dialect == "sqlite":
        return f"INSERT INTO run_summary ({names}) VALUES ({', '.join('?' * len(columns))}) {conflict}"
    arrays = ", ".join(f"%s::{_PG_ARRAYS[c]}" for c in columns[1:])
    return f"INSERT INTO run_summary ({names}) SELECT %s, * FROM unnest({arrays}) {conflict}"


def typed(value: Any) -> tuple[int | None, float | None, str | None]:
    """``(kind, num, text)`` of a summary value: what sorting and filtering on ``summary.<key>``
    compare (``_query``), as they would the JSON value. Non-finite floats are stored as tagged
    objects (``_engine``), so they are "other" here as there."""
    t = type(value)
    if t is float:
        return (0, value, None) if math.isfinite(value) else (4, None, None)
    if t is int:
        return 0, float(value), None
    if t is str:
        return 1, None, value
    if t is bool:
        return 2, float(value), None
    return (3 if value is None else 4), None, None


def _json(value: Any) -> str:
    # most values are finite floats, whose JSON is their repr: skip the encoder for them
    return repr(value) if type(value) is float and math.isfinite(value) else dumps(value)


def stored(conn: sa.Connection, run_pk: int, keys: dict[str, None] | set[str]) -> dict[str, KeyRow]:
    """The stored rows of ``keys`` (absent keys have none)."""
    sqlite = conn.dialect.name == "sqlite"
    whole = len(keys) >= _WHOLE_RUN
    sql = _SELECT.format("?" if sqlite else "%s") + ("" if whole else _SOME_KEYS[conn.dialect.name])
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, (run_pk,) if whole else (run_pk, json.dumps(list(keys)) if sqlite else list(keys)))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    found: dict[str, KeyRow] = {}
    for key, pinned, count, total, lo, hi, last, last_step in rows:
        if whole and key not in keys:
            continue
        if sqlite and "NaN" in (total, lo, hi, last):  # ``ExactFloat``: SQLite keeps NaN as text
            total, lo, hi, last = (float(v) if type(v) is str else v for v in (total, lo, hi, last))
        found[key] = KeyRow(bool(pinned), KeyStats(count, total, lo, hi, last, last_step) if count else None)
    return found


def write(conn: sa.Connection, run_pk: int, rows: Mapping[str, tuple[Any, bool, KeyStats | None]]) -> None:
    """Upsert ``{key: (value, pinned, stats)}``; ``value`` may be ``KEEP`` or ``ABSENT``."""
    sqlite = conn.dialect.name == "sqlite"
    with_value: list[tuple[Any, ...]] = []
    without: list[tuple[Any, ...]] = []
    for key, (value, pinned, stats) in rows.items():
        numbers: tuple[Any, ...] = (0, None, None, None, None, None) if stats is None else (
            stats.count, stats.sum, stats.min, stats.max, stats.last, stats.last_step)
        # NaN as text on SQLite (``ExactFloat``); a NaN anywhere is in the sum too
        if sqlite and stats is not None and stats.sum != stats.sum:
            numbers = tuple("NaN" if v != v else v for v in numbers)
        if value is KEEP:
            without.append((run_pk, key, pinned, *numbers))
        elif value is ABSENT:  # SQL NULL; a summary value of None is JSON null
            with_value.append((run_pk, key, None, None, None, None, pinned, *numbers))
        else:
            with_value.append((run_pk, key, _json(value), *typed(value), pinned, *numbers))
    cursor = conn.connection.cursor()
    try:
        for batch, has_value in ((with_value, True), (without, False)):
            if not batch:
                continue
            sql = _upsert(conn.dialect.name, has_value)
            if sqlite:
                cursor.executemany(sql, batch)
            else:
                cursor.execute(sql, (run_pk, *map(list, itertools.islice(zip(*batch, strict=True), 1, None))))
    finally:
        cursor.close()


def summaries_of(conn: sa.Connection, run_pks: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The summaries of the runs ``run_pks`` (a run without any: ``{}``). Each run's rows are
    aggregated into one JSON object by the database: one parse per run, not one per key."""
    pks = list(run_pks)
    out: dict[int, dict[str, Any]] = {pk: {} for pk in pks}
    if conn.dialect.name == "sqlite":
        aggregate = sa.func.json_group_object(_S.key, sa.func.json(_S.value), type_=NullableJson)
    else:
        aggregate = sa.func.jsonb_object_agg(_S.key, _S.value, type_=NullableJson)
    for i in range(0, len(pks), _CHUNK):
        rows = conn.execute(sa.select(_S.run_pk, aggregate).where(
            _S.run_pk.in_(pks[i:i + _CHUNK]), _S.value.is_not(None)).group_by(_S.run_pk))
        out.update((pk, summary) for pk, summary in rows)
    return out


def value_of(conn: sa.Connection, run_pk: int, key: str) -> Any:
    """One key's summary value (None when it has none)."""
    return conn.execute(sa.select(_S.value).where(_S.run_pk == run_pk, _S.key == key)).scalar()


def pinned_values(conn: sa.Connection, run_pk: int) -> dict[str, Any]:
    """The run's pinned keys: ``{key: value or ABSENT}``."""
    rows = conn.execute(sa.select(_S.key, _S.value, _S.value.is_(None)).where(_S.run_pk == run_pk, _S.pinned))
    return {key: ABSENT if missing else value for key, value, missing in rows}


def replace(conn: sa.Connection, run_pk: int, rows: Mapping[str, tuple[Any, bool, KeyStats | None]]) -> None:
    """Make ``rows`` the run's whole summary (``KEEP`` is not allowed here)."""
    conn.execute(run_summary.delete().where(_S.run_pk == run_pk))
    write(conn, run_pk, rows)


def key_statistics(conn: sa.Connection, run_pk: int) -> dict[str, dict[str, Any]]:
    """Per-key statistics of the run's numeric history, by key."""
    rows = conn.execute(sa.select(_S.key, *(_S[c] for c in _STATS)).where(
        _S.run_pk == run_pk, _S.count > 0).order_by(_S.key))
    return {key: {"last": last, "last_step": last_step, "min": lo, "max": hi, "count": count,
                  "mean": total / count}
            for key, count, total, lo, hi, last, last_step in rows}


def insert_summaries(conn: sa.Connection, summaries: Mapping[int, Mapping[str, Any]], pinned: bool = False) -> None:
    """``{run_pk: summary}`` as new rows, values only: for tools that bulk-load runs (benchmarks'
    seeds); ingest goes through ``write``."""
    rows = [{"run_pk": pk, "key": key, "value": sa.JSON.NULL if value is None else value,
             **dict(zip(("kind", "num", "text"), typed(value), strict=True)), "pinned": pinned}
            for pk, summary in summaries.items() for key, value in summary.items()]
    for i in range(0, len(rows), 10_000):
        conn.execute(run_summary.insert(), rows[i:i + 10_000])
