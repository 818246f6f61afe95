"""Fixtures of the sweep tests: one real server per backend per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import LiveServer, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_args(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "sqlite":
        return []
    return ["--db", str(request.getfixturevalue("postgres_url"))]


@pytest.fixture(scope="module")
def sweep_server(tmp_path_factory: pytest.TempPathFactory, backend_args: list[str]) -> Iterator[LiveServer]:
    """One server per backend for the module, allowing 25 agents per sweep; each test uses its own project."""
    live = start_server(tmp_path_factory.mktemp("server"), *backend_args, "--max-sweep-agents", "25")
    yield live
    live.stop()
