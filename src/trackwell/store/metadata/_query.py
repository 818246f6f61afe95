"""Runs-list queries: MongoDB-style filters, ordering on any column or JSON path, keyset cursors.

Ordering on a JSON path sorts by a tuple ``(type rank, number, text, pk)``: numbers (and bools)
before strings, missing/null/other values last in either direction. Each rank fills exactly one
of the value slots, so a cursor only compares the slots its rank fills; that keeps keyset
pagination exact with NULLs and mixed types.

A run's summary is in ``run_summary`` (a row per key): each ``summary.<key>`` a query names is
that table outer-joined once on (run, key) (``Sources``), so a missing key reads as NULL, as a
missing JSON path does.

Filters, orders and cursors come from clients: ``_query_checks`` bounds them before any SQL is
built. ``$regex`` patterns are RE2 syntax (no backreferences or lookaround): linear time on
SQLite, and a time budget per statement on both databases (``_engine``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._engine import REGEX_FUNCTIONS, compile_regex
from trackwell.store.metadata._query_checks import (
    BAD_CURSOR,
    MAX_FIELD_CHARS,
    QueryError,
    check_cursor_value,
    check_spec,
    check_text,
    comparable,
    kind_of,
    shown,
)
from trackwell.store.metadata._tables import run_summary, runs

__all__ = ["QueryError", "Sources", "compile_filters", "decode_cursor", "encode_cursor", "keyset_after", "order_components"]


# API field name -> column. Aliases follow W&B's public API names.
_COLUMNS: dict[str, sa.Column[Any]] = {
    "id": runs.c.run_id,
    "run_id": runs.c.run_id,
    "name": runs.c.name,
    "display_name": runs.c.name,
    "group": runs.c.group,
    "job_type": runs.c.job_type,
    "jobType": runs.c.job_type,
    "state": runs.c.state,
    "notes": runs.c.notes,
    "host": runs.c.host,
    "program": runs.c.program,
    "exit_code": runs.c.exit_code,
    "runtime": runs.c.runtime,
    "created_at": runs.c.created_at,
    "createdAt": runs.c.created_at,
    "updated_at": runs.c.updated_at,
    "heartbeat_at": runs.c.heartbeat_at,
}
_TIME_COLUMNS = {"created_at", "createdAt", "updated_at", "heartbeat_at"}
_FIELDS_HELP = ("state, name, group, job_type, tags, created_at, updated_at, heartbeat_at, runtime, "
                "exit_code, config.<path>, summary.<key>")
_COMPARE = {"$gt": "__gt__", "$gte": "__ge__", "$lt": "__lt__", "$lte": "__le__"}


class Sources:
    """What a runs query reads from: ``runs``, and each summary key it names joined once."""

    def __init__(self) -> None:
        self._summary: dict[str, sa.FromClause] = {}

    def summary(self, key: str) -> sa.FromClause:
        """The row of the run's summary key (all NULL when it has none)."""
        alias = self._summary.get(key)
        if alias is None:
            alias = self._summary[key] = run_summary.alias(f"summary_{len(self._summary)}")
        return alias

    def from_clause(self) -> sa.FromClause:
        joined: sa.FromClause = runs
        for key, alias in self._summary.items():
            joined = joined.outerjoin(alias, sa.and_(alias.c.run_pk == runs.c.pk, alias.c.key == key))
        return joined


class _JsonPath:
    """Typed views of one value inside a JSON column, for the current dialect."""

    def __init__(self, column: sa.ColumnElement[Any], parts: list[str], dialect: str) -> None:
        if not parts or any(not p for p in parts):
            raise QueryError(f"empty path in field {column.name}.{shown('.'.join(parts))}")
        if dialect == "postgresql":
            self.typeof: sa.ColumnElement[Any] = sa.func.jsonb_typeof(sa.func.jsonb_extract_path(column, *parts))
            raw = sa.func.jsonb_extract_path_text(column, *parts)
            self.rank: sa.ColumnElement[Any] = sa.case(
                (self.typeof == "number", 0), (self.typeof == "string", 1), (self.typeof == "boolean", 2), else_=3)
            self.num: sa.ColumnElement[Any] = sa.case(
                (self.typeof == "number", sa.cast(raw, sa.Float(precision=53))),
                (self.typeof == "boolean", sa.case((raw == "true", 1.0), else_=0.0)))
            self.text: sa.ColumnElement[Any] = sa.type_coerce(sa.case((self.typeof == "string", raw)), sa.Text())
            self.is_null = sa.or_(self.typeof.is_(None), self.typeof == "null")
        else:
            if any('"' in p for p in parts):
                raise QueryError(f"a JSON path part cannot contain '\"': {shown('.'.join(parts))}")
            path = "$" + "".join(f'."{p}"' for p in parts)
            self.typeof = sa.func.json_type(column, path)
            raw = sa.func.json_extract(column, path)
            self.rank = sa.case((self.typeof.in_(["integer", "real"]), 0), (self.typeof == "text", 1),
                                (self.typeof.in_(["true", "false"]), 2), else_=3)
            self.num = sa.type_coerce(sa.case((self.typeof.in_(["integer", "real", "true", "false"]), raw)),
                                      sa.Float())
            self.text = sa.type_coerce(sa.case((self.typeof == "text", raw)), sa.Text())
            self.is_null = sa.or_(self.typeof.is_(None), self.typeof == "null")
        self.exists = self.typeof.is_not(None)


class _SummaryPath:
    """The same views of a summary key, from the typed columns ``run_summary`` keeps beside the
    value (``_summaries.typed``): no JSON is parsed per run while sorting or filtering."""

    def __init__(self, row: sa.FromClause) -> None:
        kind = row.c.kind  # 0 number, 1 string, 2 bool, 3 JSON null, 4 other; NULL: not in the summary
        self.rank: sa.ColumnElement[Any] = sa.case((kind < 3, kind), else_=3)
        self.num: sa.ColumnElement[Any] = row.c.num
        self.text: sa.ColumnElement[Any] = row.c.text
        self.is_null = sa.or_(kind.is_(None), kind == 3)
        self.exists = kind.is_not(None)


def _json_field(field: str, dialect: str, sources: Sources) -> _JsonPath | _SummaryPath | None:
    head, _, rest = field.partition(".")
    if head == "config" and rest:
        return _JsonPath(runs.c.config, rest.split("."), dialect)
    if head in ("summary", "summary_metrics") and rest:
        # Summary keys are flat ("train/loss"); dots are part of the key.
        check_text(rest, "summary key")
        return _SummaryPath(sources.summary(rest))
    return None


def _scalar_kind(field: str, op: str, value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    raise QueryError(f"filter on {shown(field)}: {op} needs a number, string, bool or null, got {shown(value)}")


class _Filters:
    def __init__(self, dialect: str, sources: Sources) -> None:
        self.dialect, self.sources = dialect, sources

    def compile(self, spec: Any) -> sa.ColumnElement[bool]:
        if not isinstance(spec, dict):
            raise QueryError(f"filters must be a JSON object, got {shown(spec)}")
        clauses: list[sa.ColumnElement[bool]] = []
        for key, value in spec.items():
            if key in ("$and", "$or"):
                if not isinstance(value, list) or not value:
                    raise QueryError(f"{key} needs a non-empty list of filter objects")
                parts = [self.compile(v) for v in value]
                clauses.append(sa.and_(*parts) if key == "$and" else sa.or_(*parts))
            elif key.startswith("$"):
                raise QueryError(f"unknown filter operator {shown(key)} at the top level; use $and, $or or a field name")
            else:
                clauses.append(self._field(key, value))
        return sa.and_(sa.true(), *clauses)

    def _field(self, field: str, cond: Any) -> sa.ColumnElement[bool]:
        ops = cond if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond) else {"$eq": cond}
        if field == "tags":
            return sa.and_(*(self._tags(op, v) for op, v in ops.items()))
        path = _json_field(field, self.dialect, self.sources)
        if path is not None:
            return sa.and_(*(self._json(field, path, op, v) for op, v in ops.items()))
        column = _COLUMNS.get(field)
        if column is None:
            raise QueryError(f"unknown filter field {shown(field)}; use one of {_FIELDS_HELP}")
        return sa.and_(*(self._column(field, column, op, v) for op, v in ops.items()))

    def _listed(self, field: str, op: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise QueryError(f"filter on {shown(field)}: {op} needs a list, got {shown(value)}")
        return value

    def _regex(self, field: str, value: Any, text: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        if not isinstance(value, str):
            raise QueryError(f"filter on {shown(field)}: $regex needs a string pattern")
        try:
            compile_regex(value)
        except Exception as exc:  # re2.error; RE2 refuses what it cannot run in linear time
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise QueryError(f"filter on {shown(field)}: invalid $regex {shown(value)} ({reason}); patterns "
                             "use RE2 syntax, without backreferences or lookaround") from None
        return getattr(sa.func, REGEX_FUNCTIONS[self.dialect])(text, value, type_=sa.Boolean)

    def _in(self, field: str, op: str, value: Any,
            eq: Callable[[Any], sa.ColumnElement[bool]]) -> sa.ColumnElement[bool]:
        values = self._listed(field, op, value)
        hit = sa.or_(sa.false(), *(eq(v) for v in values))
        return hit if op == "$in" else sa.not_(hit)

    def _column(self, field: str, column: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
        if field in _TIME_COLUMNS and isinstance(value, str) and op not in ("$regex",):
            value = _parse_time(field, value)

        def eq(v: Any) -> sa.ColumnElement[bool]:
            if field in _TIME_COLUMNS and isinstance(v, str):
                v = _parse_time(field, v)
            _scalar_kind(field, "$eq", v)
            comparable(field, column, op, v)
            return column.is_(None) if v is None else sa.and_(column.is_not(None), column == v)

        if op == "$eq":
            return eq(value)
        if op == "$ne":
            return sa.not_(eq(value))
        if op in ("$in", "$nin"):
            return self._in(field, op, value, eq)
        if op in _COMPARE:
            if _scalar_kind(field, op, value) in ("null", "bool"):
                raise QueryError(f"filter on {shown(field)}: {op} needs a number or string")
            comparable(field, column, op, value)
            return sa.and_(column.is_not(None), getattr(column, _COMPARE[op])(value))
        if op == "$exists":
            return column.is_not(None) if value else column.is_(None)
        if op == "$regex":
            if kind_of(column) is not str:
                raise QueryError(f"filter on {shown(field)}: $regex needs a text field, and this one is a number")
            return sa.and_(column.is_not(None), self._regex(field, value, column))
        raise QueryError(f"unknown filter operator {shown(op)} on {shown(field)}; use $eq, $ne, $gt, $gte, $lt, "
                         "$lte, $in, $nin, $regex or $exists")

    def _json(self, field: str, path: _JsonPath | _SummaryPath, op: str, value: Any) -> sa.ColumnElement[bool]:
        def eq(v: Any) -> sa.ColumnElement[bool]:
            kind = _scalar_kind(field, "$eq", v)
            if kind == "null":
                return path.is_null
            if kind == "bool":
                return sa.and_(path.rank == 2, path.num == (1 if v else 0))
            if kind == "number":
                return sa.and_(path.rank == 0, path.num == v)
            return sa.and_(path.rank == 1, path.text == v)

        if op == "$eq":
            return eq(value)
        if op == "$ne":
            return sa.not_(eq(value))
        if op in ("$in", "$nin"):
            return self._in(field, op, value, eq)
        if op in _COMPARE:
            kind = _scalar_kind(field, op, value)
            if kind == "number":
                return sa.and_(path.rank == 0, getattr(path.num, _COMPARE[op])(value))
            if kind == "text":
                return sa.and_(path.rank == 1, getattr(path.text, _COMPARE[op])(value))
            raise QueryError(f"filter on {shown(field)}: {op} needs a number or string")
        if op == "$exists":
            return path.exists if value else sa.not_(path.exists)
        if op == "$regex":
            return sa.and_(path.rank == 1, self._regex(field, value, path.text))
        raise QueryError(f"unknown filter operator {shown(op)} on {shown(field)}; use $eq, $ne, $gt, $gte, $lt, "
                         "$lte, $in, $nin, $regex or $exists")

    def _tag_exists(self, where: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]) -> sa.ColumnElement[bool]:
        fn = sa.func.jsonb_array_elements_text if self.dialect == "postgresql" else sa.func.json_each
        elements = fn(runs.c.tags).table_valued("value")
        return sa.select(sa.literal(1)).select_from(elements).where(where(elements.c.value)).exists()

    def _tags(self, op: str, value: Any) -> sa.ColumnElement[bool]:
        def has(tag: Any) -> sa.ColumnElement[bool]:
            if not isinstance(tag, str):
                raise QueryError(f"filter on 'tags': tags are strings, got {shown(tag)}")
            return self._tag_exists(lambda v: v == tag)

        if op == "$eq":
            return has(value)
        if op == "$ne":
            return sa.not_(has(value))
        if op in ("$in", "$nin"):
            return self._in("tags", op, value, has)
        if op == "$all":
            return sa.and_(sa.true(), *(has(t) for t in self._listed("tags", op, value)))
        if op == "$regex":
            return self._tag_exists(lambda v: self._regex("tags", value, v))
        if op == "$exists":
            return self._tag_exists(lambda v: sa.true()) if value else sa.not_(self._tag_exists(lambda v: sa.true()))
        raise QueryError(f"unknown filter operator {shown(op)} on 'tags'; use a tag, $in, $nin, $all, $ne, $regex or $exists")


def _parse_time(field: str, value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise QueryError(f"filter on {shown(field)}: {shown(value)} is not Unix seconds or an ISO 8601 time") from exc


def compile_filters(spec: Any, dialect: str, sources: Sources) -> sa.ColumnElement[bool]:
    check_spec(spec)
    return _Filters(dialect, sources).compile(spec)


def order_components(order: str, dialect: str, sources: Sources) -> list[tuple[sa.ColumnElement[Any], bool]]:
    """``-summary.loss`` -> [(expr, descending), ...] ending with the primary key."""
    check_text(order, "order")
    if len(order) > MAX_FIELD_CHARS:
        raise QueryError(f"order {shown(order)} is longer than {MAX_FIELD_CHARS} characters")
    descending = order.startswith("-")
    field = order.lstrip("+-").strip()
    path = _json_field(field, dialect, sources)
    if path is not None:
        values = [path.num, path.text]
        rank = path.rank
    else:
        column = _COLUMNS.get(field)
        if column is None:
            raise QueryError(f"cannot order by {shown(field)}; use a column ({', '.join(sorted(_COLUMNS))}), "
                             "config.<path> or summary.<key>, with a leading - for descending")
        if not column.nullable:  # plain (index-friendly) keyset order
            return [(column, descending), (runs.c.pk, descending)]
        values = [column]
        rank = sa.case((column.is_(None), 1), else_=0)
    # Rank is always ascending so missing values come last in both directions.
    return [(rank, False), *((v, descending) for v in values), (runs.c.pk, descending)]


def keyset_after(components: list[tuple[sa.ColumnElement[Any], bool]], cursor: list[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after the cursor in the order; slots the cursor's rank leaves empty are skipped."""
    if len(cursor) != len(components):
        raise QueryError("cursor does not belong to this order; restart without a cursor")
    for (expr, _), value in zip(components, cursor, strict=True):
        check_cursor_value(expr, value)
    alternatives: list[sa.ColumnElement[bool]] = []
    equal: list[sa.ColumnElement[bool]] = []
    for (expr, desc), value in zip(components, cursor, strict=True):
        if value is None:
            continue
        alternatives.append(sa.and_(*equal, expr < value if desc else expr > value))
        equal.append(expr == value)
    return sa.or_(sa.false(), *alternatives)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError) as exc:
        raise QueryError(BAD_CURSOR) from exc
    if not isinstance(values, list):
        raise QueryError(BAD_CURSOR)
    return values
