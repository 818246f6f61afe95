"""Engine creation (SQLite pragmas, JSON that keeps NaN/±Inf) and programmatic migrations."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

_MIGRATIONS = Path(__file__).parent / "migrations"

# PostgreSQL's JSONB rejects NaN/Infinity, so non-finite floats are stored tagged.
_FLOAT_TAG = "$float"


def _tag_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {_FLOAT_TAG: repr(obj).replace("inf", "Infinity").replace("nan", "NaN")}
    if isinstance(obj, dict):
        return {k: _tag_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tag_floats(v) for v in obj]
    return obj


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _FLOAT_TAG in obj:
        return float(obj[_FLOAT_TAG])
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


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def create_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        db_path = sa.make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, json_serializer=dumps, json_deserializer=loads,
                                  connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, json_serializer=dumps, json_deserializer=loads,
                            pool_size=10, max_overflow=20, pool_pre_ping=True)


def upgrade(engine: sa.Engine) -> None:
    """Bring the database to the newest schema revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
