"""A real server that may send webhooks to loopback receivers, with a retry schedule of seconds."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "auth"))  # server_support: scratch PostgreSQL databases

from receiver import Receiver  # noqa: E402
from server_support import scratch_postgres  # noqa: E402
from servers import LiveServer, free_port, http, start_server  # noqa: E402

from trackwell.schema import Batch, Exit, History, RunStart, encode  # noqa: E402

FAST_RETRIES = "0.5,0.5,1,1,2"


@pytest.fixture
def hook_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("TRACKWELL_WEBHOOK_RETRY_SCHEDULE", FAST_RETRIES)
    monkeypatch.setenv("TRACKWELL_WEBHOOK_TIMEOUT", "2")
    server = start_server(tmp_path / "server", "--allow-private-webhooks")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_hook_server(request: pytest.FixtureRequest, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """``hook_server`` on SQLite, then on a scratch PostgreSQL database."""
    monkeypatch.setenv("TRACKWELL_WEBHOOK_RETRY_SCHEDULE", FAST_RETRIES)
    monkeypatch.setenv("TRACKWELL_WEBHOOK_TIMEOUT", "2")
    if request.param == "sqlite":
        server = start_server(tmp_path / "server", "--allow-private-webhooks")
        yield server
        server.stop()
        return
    with scratch_postgres(request.getfixturevalue("postgres_url")) as url:
        server = start_server(tmp_path / "server", "--allow-private-webhooks", "--db", url)
        yield server
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port()).start()
    yield r
    r.stop()


class Writer:
    """Logs a run by posting journal batches, as the SDK's uploader does."""

    def __init__(self, server: LiveServer, project: str, run_id: str | None = None, **start: Any) -> None:
        self.server, self.project = server, project
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.writer, self.seq, self.step = uuid.uuid4().hex, 0, 0
        self._post([RunStart(seq=self._next(), ts=0.0, entity=server.entity, project=project, run_id=self.run_id,
                             **start)])

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _post(self, records: list[Any]) -> None:
        r = http.post(f"{self.server.url}/api/v1/runs/{self.server.entity}/{self.project}/{self.run_id}/records",
                      content=encode(Batch(writer=self.writer, records=records)),
                      headers={"Content-Type": "application/msgpack"}, timeout=30)
        assert r.status_code == 200, r.text

    def log(self, *rows: dict[str, float]) -> None:
        records = []
        for row in rows:
            records.append(History(seq=self._next(), ts=0.0, step=self.step, runtime=float(self.step), data=row))
            self.step += 1
        self._post(records)

    def exit(self, code: int) -> None:
        self._post([Exit(seq=self._next(), ts=0.0, exit_code=code, runtime=1.0)])
