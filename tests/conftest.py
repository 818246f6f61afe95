"""Shared fixtures: real server processes on free loopback ports, real databases in temp dirs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import LiveServer, start_server


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
