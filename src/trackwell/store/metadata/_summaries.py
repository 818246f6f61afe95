"""A run's summary as rows of ``run_summary``, one per key: a batch reads and writes only the keys
it touches, however many the run has (``schema/summary.py`` says what the values are)."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trackwell.schema.summary import KeyStats
from trackwell.store.metadata._engine import dumps
from trackwell.store.metadata._tables import run_summary

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
_COLUMNS = ("run_pk", "key", "value", "pinned", *_STATS)
_SELECT = {
    "sqlite": "SELECT key, pinned, count, sum, min, max, last, last_step FROM run_summary "
              "WHERE run_pk = ? AND key IN (SELECT value FROM json_each(?))",
    "postgresql": "SELECT key, pinned, count, sum, min, max, last, last_step FROM run_summary "
                  "WHERE run_pk = %s AND key = ANY(%s)",
}
_PG_ARRAYS = {"key": "text[]", "value": "text[]::jsonb[]", "pinned": "bool[]", "count": "bigint[]",
              "sum": "float8[]", "min": "float8[]", "max": "float8[]", "last": "float8[]", "last_step": "bigint[]"}


def _upsert(dialect: str, with_value: bool) -> str:
    columns = [c for c in _COLUMNS if with_value or c != "value"]
    names = ", ".join(columns)
    conflict = "ON CONFLICT (run_pk, key) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    if dialect == "sqlite":
        return f"INSERT INTO run_summary ({names}) VALUES ({', '.join('?' * len(columns))}) {conflict}"
    arrays = ", ".join(f"%s::{_PG_ARRAYS[c]}" for c in columns[1:])
    return f"INSERT INTO run_summary ({names}) SELECT %s, * FROM unnest({arrays}) {conflict}"


def _json(value: Any) -> str:
    # most values are finite floats, whose JSON is their repr: skip the encoder for them
    return repr(value) if type(value) is float and math.isfinite(value) else dumps(value)


def _float_in(value: float | None, dialect: str) -> Any:
    # ``ExactFloat``'s rule: SQLite would store a NaN REAL as NULL, so NaN goes in as text
    return "NaN" if dialect == "sqlite" and value is not None and value != value else value


def _float_out(value: Any) -> float | None:
    return None if value is None else float(value)


def stored(conn: sa.Connection, run_pk: int, keys: Collection[str]) -> dict[str, KeyRow]:
    """The stored rows of ``keys`` (absent keys have none)."""
    dialect = conn.dialect.name
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_SELECT[dialect], (run_pk, json.dumps(list(keys)) if dialect == "sqlite" else list(keys)))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    # count > 0: sum, last and last_step are set
    return {key: KeyRow(bool(pinned), KeyStats(count, float(total), _float_out(lo), _float_out(hi), float(last),
                                               last_step) if count else None)
            for key, pinned, count, total, lo, hi, last, last_step in rows}


def write(conn: sa.Connection, run_pk: int, rows: Mapping[str, tuple[Any, bool, KeyStats | None]]) -> None:
    """Upsert ``{key: (value, pinned, stats)}``; ``value`` may be ``KEEP`` or ``ABSENT``."""
    dialect = conn.dialect.name
    with_value: list[tuple[Any, ...]] = []
    without: list[tuple[Any, ...]] = []
    for key, (value, pinned, stats) in rows.items():
        numbers: tuple[Any, ...] = (0, None, None, None, None, None) if stats is None else (
            stats.count, _float_in(stats.sum, dialect), _float_in(stats.min, dialect),
            _float_in(stats.max, dialect), _float_in(stats.last, dialect), stats.last_step)
        if value is KEEP:
            without.append((key, pinned, *numbers))
        else:  # a summary value of None is JSON null; ABSENT is SQL NULL
            with_value.append((key, None if value is ABSENT else _json(value), pinned, *numbers))
    cursor = conn.connection.cursor()
    try:
        for batch, has_value in ((with_value, True), (without, False)):
            if not batch:
                continue
            sql = _upsert(dialect, has_value)
            if dialect == "sqlite":
                cursor.executemany(sql, [(run_pk, *row) for row in batch])
            else:
                cursor.execute(sql, (run_pk, *map(list, zip(*batch, strict=True))))
    finally:
        cursor.close()


def summaries_of(conn: sa.Connection, run_pks: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The summaries of the runs ``run_pks`` (a run without any: ``{}``)."""
    pks = list(run_pks)
    out: dict[int, dict[str, Any]] = {pk: {} for pk in pks}
    for i in range(0, len(pks), _CHUNK):
        rows = conn.execute(sa.select(_S.run_pk, _S.key, _S.value).where(
            _S.run_pk.in_(pks[i:i + _CHUNK]), _S.value.is_not(None)).order_by(_S.run_pk, _S.key))
        for pk, key, value in rows:
            out[pk][key] = value
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
    rows = [{"run_pk": pk, "key": key, "value": sa.JSON.NULL if value is None else value, "pinned": pinned}
            for pk, summary in summaries.items() for key, value in summary.items()]
    for i in range(0, len(rows), 10_000):
        conn.execute(run_summary.insert(), rows[i:i + 10_000])
