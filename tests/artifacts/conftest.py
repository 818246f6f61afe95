from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for a module's tests (each test uses its own project)."""
    live = start_server(tmp_path_factory.mktemp("artifact-server"))
    yield live
    live.stop()


@pytest.fixture
def online(server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("TRACKWELL_BASE_URL", server.url)
    monkeypatch.setenv("TRACKWELL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return server


@pytest.fixture
def project(request: pytest.FixtureRequest) -> str:
    return request.node.name.replace("[", "-").replace("]", "").replace("_", "-")[:60]
