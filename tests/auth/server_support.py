"""Shared by the server-side auth tests: a database of its own for every server (so each one
bootstraps its own admin, on SQLite or PostgreSQL), a credentials directory the server writes the
admin's key to, and raw HTTP with a key or a browser session."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import LiveServer, start_server

from trackwell import _credentials

BACKENDS = ["sqlite", "postgresql"]
SESSION_COOKIE = "trackwell_session"
JSON = {"Content-Type": "application/json"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


@contextlib.contextmanager
def config_dir(path: Path) -> Iterator[Path]:
    """``TRACKWELL_CONFIG_DIR`` for this block (the servers started in it inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKWELL_CONFIG_DIR", str(path))
        for name in ("TRACKWELL_API_KEY", "TRACKWELL_ENTITY", "TRACKWELL_BASE_URL"):
            patch.delenv(name, raising=False)
        yield path


@contextlib.contextmanager
def scratch_postgres(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own next to the session's scratch one, dropped afterwards: a
    server on it starts with no users, so it bootstraps (the session's database is shared)."""
    import sqlalchemy as sa

    base = sa.make_url(postgres_url)
    name = f"{base.database}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Served:
    live: LiveServer
    database: str  # its metadata database's SQLAlchemy URL, for looking inside
    args: list[str]  # the --db arguments that start another server on the same database


@contextlib.contextmanager
def fresh_database(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> Iterator[tuple[list[str], str]]:
    """(``trackwell server`` arguments, SQLAlchemy URL) of a new database on ``backend``: SQLite
    in ``data_dir`` (the server's data dir), or a scratch PostgreSQL database."""
    if backend == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        yield [], f"sqlite:///{data_dir / 'trackwell.db'}"
        return
    with scratch_postgres(request.getfixturevalue("postgres_url")) as url:
        yield ["--db", url], url


def admin_key(live: LiveServer) -> str:
    stored = _credentials.load(live.url)
    assert stored is not None, f"the server did not store its admin's key:\n{live.log()}"
    return stored.api_key


@contextlib.contextmanager
def fresh_server(request: pytest.FixtureRequest, backend: str, tmp: Path, *args: str) -> Iterator[Served]:
    """A server on a new database of ``backend``; its admin's key goes to ``tmp``/config."""
    with config_dir(tmp / "config"), fresh_database(request, backend, tmp / "server") as (db, url):
        live = start_server(tmp / "server", *db, *args)
        try:
            yield Served(live, url, db)
        finally:
            live.stop()
