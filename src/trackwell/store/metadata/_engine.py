"""Engine creation (SQLite pragmas, JSON that keeps NaN/±Inf, a linear-time REGEXP, a time
budget for regex queries) and programmatic migrations.

JSON columns: PostgreSQL's JSONB rejects NaN/Infinity, so non-finite floats are stored as
``{"$float": "NaN" | "Infinity" | "-Infinity"}``. So that client data never collides with the
tag, a dict whose only key is ``$float``, ``$$float``, ... is stored with one ``$`` more and read
back with one ``$`` less; a ``$float`` dict holding anything but those three names (written before
this escaping existed) reads back as stored.

Regex filters (``$regex``) run in RE2 on SQLite (linear time, no catastrophic backtracking) and
in PostgreSQL's own engine; either way a statement holding a regex gets ``QUERY_BUDGET`` seconds
(``TRACKWELL_QUERY_BUDGET``, default 10): SQLite interrupts it, PostgreSQL cancels it
(``statement_timeout``), and the caller turns that into a 400 naming the pattern.
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path
from typing import Any

import re2
import sqlalchemy as sa

from trackwell._env import env_float

_MIGRATIONS = Path(__file__).parent / "migrations"

_FLOAT_TAG = "$float"
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# The SQL function a regex filter calls (``_query``): on SQLite our RE2 function, on PostgreSQL
# the function behind ``~``. Statements naming one get the query budget.
REGEX_FUNCTIONS = {"sqlite": "trackwell_regexp", "postgresql": "textregexeq"}
QUERY_BUDGET = env_float("TRACKWELL_QUERY_BUDGET", 10.0)
_PROGRESS_STEPS = 200  # SQLite VM instructions between deadline checks


def _is_tag_key(key: Any) -> bool:
    return type(key) is str and key.startswith("$") and key.lstrip("$") == "float"


def _tag_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {_FLOAT_TAG: repr(obj).replace("inf", "Infinity").replace("nan", "NaN")}
    if isinstance(obj, dict):
        if len(obj) == 1:
            ((key, value),) = obj.items()
            if _is_tag_key(key):  # client data shaped like the tag: escaped
                return {"$" + key: _tag_floats(value)}
        return {k: _tag_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tag_floats(v) for v in obj]
    return obj


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == _FLOAT_TAG:
            return _NON_FINITE.get(value, obj) if type(value) is str else obj
        if _is_tag_key(key):
            return {key[1:]: value}
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_tag_floats(obj), separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_untag)


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def regex_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the client's error, answered 400, not logged
    return options


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str) -> Any:
    """The pattern compiled by RE2; raises ``re2.error`` when RE2 cannot take it."""
    return re2.compile(pattern, regex_options())


class QueryBudgetExceeded(Exception):
    """A statement ran past ``QUERY_BUDGET`` (SQLite raises it from the regex function)."""


class _Deadline:
    """One per SQLite connection: when its current budgeted statement must stop (0: none)."""

    def __init__(self) -> None:
        self.at = 0.0

    def passed(self) -> bool:
        return self.at != 0.0 and time.monotonic() > self.at

    def progress(self) -> int:
        return 1 if self.passed() else 0  # non-zero makes SQLite interrupt the statement

    def regexp(self, value: Any, pattern: str) -> bool:
        if self.passed():
            raise QueryBudgetExceeded
        return value is not None and compile_regex(pattern).search(str(value)) is not None


def _budgeted(statement: str, dialect: str) -> bool:
    return REGEX_FUNCTIONS[dialect] + "(" in statement


def _install_budget(engine: sa.Engine, dialect: str) -> None:
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn: sa.Connection, cursor: Any, statement: str, *_args: Any) -> None:
        budgeted = _budgeted(statement, dialect)
        if dialect == "sqlite":
            deadline: _Deadline = conn.info["deadline"]
            if budgeted:
                deadline.at = time.monotonic() + QUERY_BUDGET
                conn.connection.dbapi_connection.set_progress_handler(  # type: ignore[union-attr]
                    deadline.progress, _PROGRESS_STEPS)
            elif deadline.at:  # rows of the previous statement are fetched by now
                deadline.at = 0.0
                conn.connection.dbapi_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]
        elif budgeted:  # for this transaction only; a read's transaction ends with it
            cursor.execute(f"SET LOCAL statement_timeout = {max(1, round(QUERY_BUDGET * 1000))}")


def create_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        db_path = sa.make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, json_serializer=dumps, json_deserializer=loads,
                                  connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, record: Any) -> None:
            deadline = record.info["deadline"] = _Deadline()
            dbapi_conn.create_function(REGEX_FUNCTIONS["sqlite"], 2, deadline.regexp, deterministic=True)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        _install_budget(engine, "sqlite")
        return engine
    engine = sa.create_engine(url, json_serializer=dumps, json_deserializer=loads,
                              pool_size=10, max_overflow=20, pool_pre_ping=True)
    _install_budget(engine, "postgresql")
    return engine


def upgrade(engine: sa.Engine) -> None:
    """Bring the database to the newest schema revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
