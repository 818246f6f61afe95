"""Fixtures of the system-metrics and console-capture tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import LiveServer, start_server


@pytest.fixture
def script_dir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for a module's tests (each makes its own runs)."""
    live = start_server(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()
