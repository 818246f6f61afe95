"""Bounds on what clients put in a runs-list query, checked before any SQL is built (a 400
naming the problem): filters nest at most 32 deep, ``$in``/``$nin``/``$all`` take at most 1,000
values, strings hold no NUL or lone surrogate, ints fit in int64, each cursor slot holds the kind
of value the server put there; and the database errors a filter can still cause (a regex over
the time budget, a pattern PostgreSQL refuses) explained as a ``QueryError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._engine import QUERY_BUDGET

MAX_FILTER_DEPTH = 32
MAX_LIST_VALUES = 1000
MAX_FIELD_CHARS = 1000
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
BAD_CURSOR = "malformed cursor; pass next_cursor exactly as returned, or omit it"
_PG_QUERY_CANCELED, _PG_INVALID_REGEX = "57014", "2201B"


class QueryError(ValueError):
    """A filter, order or cursor the server cannot use (answered with HTTP 400)."""


def shown(value: Any, limit: int = 200) -> str:
    """Client input for an error message: ``repr``, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise QueryError(f"{where} {shown(text)} contains a NUL character; remove it")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise QueryError(f"{where} {shown(text)} contains a lone surrogate, which is not valid text") from None


def check_spec(spec: Any, depth: int = 0) -> None:
    """Depth, list sizes, strings and ints of a parsed filter."""
    if depth > MAX_FILTER_DEPTH:
        raise QueryError(f"filters are nested more than {MAX_FILTER_DEPTH} levels deep; simplify them")
    if isinstance(spec, dict):
        for key, value in spec.items():
            check_text(key, "filter field")
            if len(key) > MAX_FIELD_CHARS:
                raise QueryError(f"filter field {shown(key)} is longer than {MAX_FIELD_CHARS} characters")
            check_spec(value, depth + 1)
    elif isinstance(spec, list):
        if len(spec) > MAX_LIST_VALUES:
            raise QueryError(f"a filter list holds {len(spec)} values, over the limit of {MAX_LIST_VALUES}; "
                             "split the query")
        for value in spec:
            check_spec(value, depth + 1)
    elif isinstance(spec, str):
        check_text(spec, "filter value")
    elif isinstance(spec, int) and not isinstance(spec, bool) and not INT64[0] <= spec <= INT64[1]:
        raise QueryError(f"filter value {shown(spec)} is outside the 64-bit integer range")


def kind_of(expr: sa.ColumnElement[Any]) -> type:
    """The Python type an expression holds (``object`` when the database decides)."""
    try:
        return expr.type.python_type
    except NotImplementedError:
        return object


def comparable(field: str, column: sa.ColumnElement[Any], op: str, value: Any) -> None:
    """A column compared with a value of its own kind (PostgreSQL refuses text = integer)."""
    kind = kind_of(column)
    if value is None or kind is object:
        return
    if kind is str and not isinstance(value, str):
        raise QueryError(f"filter on {shown(field)}: {op} compares text, so give a string, got {shown(value)}")
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise QueryError(f"filter on {shown(field)}: {op} compares numbers, so give a number, got {shown(value)}")
    if type(column.type) is sa.Integer and isinstance(value, int) and not INT32[0] <= value <= INT32[1]:
        raise QueryError(f"filter on {shown(field)}: {shown(value)} is outside this 32-bit field's range")


def check_cursor_value(expr: sa.ColumnElement[Any], value: Any) -> None:
    """A cursor slot holds what the server put there: the slot's kind, or None."""
    if value is None:
        return
    kind = kind_of(expr)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QueryError(BAD_CURSOR)
    bounds = INT32 if type(expr.type) is sa.Integer else INT64  # PostgreSQL refuses a wider value
    if isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
        raise QueryError(BAD_CURSOR)
    if (kind is int and not isinstance(value, int)) or (kind is float and isinstance(value, str)) \
            or (kind is str and not isinstance(value, str)):
        raise QueryError(BAD_CURSOR)
    if isinstance(value, str):
        check_text(value, "cursor value")


def _patterns(spec: Any) -> Iterator[str]:
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "$regex" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _patterns(value)


def explain_failure(exc: BaseException, spec: Any) -> QueryError | None:
    """The ``QueryError`` behind a database error that ``spec``'s ``$regex`` caused, else None."""
    patterns = ", ".join(shown(p) for p in dict.fromkeys(_patterns(spec)))
    if not patterns:
        return None
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "sqlstate", None)
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if sqlstate == _PG_QUERY_CANCELED or message in ("interrupted", "user-defined function raised exception"):
        return QueryError(f"$regex {patterns} took longer than this server's budget of {QUERY_BUDGET:g} s per "
                          "query; use a more specific pattern, or narrow the query with other filters")
    if sqlstate == _PG_INVALID_REGEX:
        return QueryError(f"$regex {patterns} is refused by PostgreSQL's regex engine ({message}); use syntax "
                          "both RE2 and PostgreSQL know (no \\p, \\z, \\Q or named groups)")
    return None
