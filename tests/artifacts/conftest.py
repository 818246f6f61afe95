from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3server import S3Server
from servers import LiveServer, start_server


@pytest.fixture(scope="module", params=["local", "s3"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for a module's tests (each test uses its own project), its blobs in a
    local directory or in S3 (moto's standalone server): the same suite passes on both."""
    extra: tuple[str, ...] = ()
    saved = dict(os.environ)
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        os.environ.update(s3.env)  # the server subprocess inherits them
        extra = ("--blob-store", f"s3://{s3.new_bucket()}/blobs")
    try:
        live = start_server(tmp_path_factory.mktemp("artifact-server"), *extra)
    finally:
        os.environ.clear()
        os.environ.update(saved)
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
