"""Fixtures of the hostile-input tests: one real server per backend per module, and a batch builder."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from servers import LiveServer, http, start_server

from trackwell.schema import AnyRecord, Batch, History, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_args(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "sqlite":
        return []
    return ["--db", str(request.getfixturevalue("postgres_url"))]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, backend_args: list[str]) -> Iterator[LiveServer]:
    """One server per backend for a whole module; each test uses its own project."""
    live = start_server(tmp_path_factory.mktemp("server"), *backend_args)
    yield live
    live.stop()


class Run:
    """One run's writer speaking the batch protocol directly (no SDK in between)."""

    def __init__(self, url: str, project: str | None = None, run_id: str = "r1") -> None:
        self.url = url
        self.entity, self.project, self.run_id = "team", project or f"p-{uuid.uuid4().hex[:8]}", run_id
        self.writer = uuid.uuid4().hex
        self.seq = 0
        self.step = 0

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.run_id}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1/runs/{self.path}"

    def fields(self) -> dict[str, Any]:
        self.seq += 1
        return {"seq": self.seq, "ts": time.time()}

    def start(self, **fields: Any) -> RunStart:
        return RunStart(**self.fields(), entity=self.entity, project=self.project, run_id=self.run_id, **fields)

    def row(self, data: dict[str, Any], step: int | None = None) -> History:
        self.step = self.step if step is None else step
        rec = History(**self.fields(), step=self.step, runtime=float(min(self.step, 10**6)), data=data)
        self.step += 1
        return rec

    def record(self, cls: type[AnyRecord], **fields: Any) -> AnyRecord:
        return cls(**self.fields(), **fields)  # type: ignore[call-arg]

    def post(self, records: list[AnyRecord]) -> httpx.Response:
        return http.post(f"{self.api}/records", content=encode(Batch(writer=self.writer, records=records)),
                          headers=MSGPACK, timeout=30)

    def post_json(self, body: str) -> httpx.Response:
        return http.post(f"{self.api}/records", content=body, headers={"Content-Type": "application/json"},
                          timeout=30)


def readable(run: Run) -> None:
    """Every read of the run, and the runs list, answers 200."""
    base = f"{run.url}/api/v1/runs/{run.entity}/{run.project}"
    for url in (run.api, base, f"{run.api}/metrics", f"{run.api}/history", f"{run.api}/history/scan",
                f"{run.api}/history/export", f"{run.api}/console", f"{run.api}/resume"):
        response = http.get(url, timeout=30)
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
    for key in list(http.get(f"{run.api}/metrics", timeout=30).json()["metrics"])[:20]:
        response = http.get(f"{run.api}/history/buckets", params={"key": key}, timeout=30)
        assert response.status_code == 200, (key, response.text[:500])


@pytest.fixture
def run_class() -> type[Run]:
    return Run


@pytest.fixture
def assert_readable() -> Any:
    return readable
