"""Shared fixtures: real server processes on free loopback ports, real databases in temp dirs."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3server import S3Server, start_s3_server
from servers import LiveServer, start_server

# The session's own credentials file: the servers (subprocesses, which inherit it) save their
# bootstrap keys there and the SDK reads them, as for a user on a fresh machine; the real
# ~/.config is never read or written. Set at import, before any server or client starts.
_CONFIG_DIR = tempfile.mkdtemp(prefix="trackwell-test-config-")
os.environ["TRACKWELL_CONFIG_DIR"] = _CONFIG_DIR
for _name in ("TRACKWELL_API_KEY", "TRACKWELL_ENTITY", "TRACKWELL_BASE_URL"):  # the shell's login is not ours
    os.environ.pop(_name, None)
for _name in [n for n in os.environ if n.startswith("WANDB_")]:  # the SDK reads them after TRACKWELL_*
    os.environ.pop(_name, None)
# The system monitor adds records on its own clock (a sample at start, metadata a few ms later),
# which tests counting a journal's records cannot expect; tests/system turns it back on.
os.environ["TRACKWELL_DISABLE_STATS"] = os.environ["TRACKWELL_DISABLE_META"] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CONFIG_DIR, ignore_errors=True)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "server")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test session, dropped at the end.

    CI sets TRACKWELL_TEST_POSTGRES_URL; without it the PostgreSQL variants are skipped.
    """
    base = os.environ.get("TRACKWELL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TRACKWELL_TEST_POSTGRES_URL is not set")
    import sqlalchemy as sa

    name = f"trackwell_test_{uuid.uuid4().hex[:10]}"
    admin_url = base.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible HTTP server (moto's standalone server, a subprocess) for this session."""
    server = start_s3_server(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()
