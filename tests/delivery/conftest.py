from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_helpers import FAST_RETRIES
from fault_proxy import FaultProxy
from servers import LiveServer, start_server


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server per module: every test uses its own run, so they do not interfere."""
    live = start_server(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[FaultProxy]:
    fp = FaultProxy(server.url, retry_after="0", stall_seconds=1.5, drop_delay=1.5)
    yield fp
    fp.close()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path
