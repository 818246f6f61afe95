"""Store fixtures: the metadata database on SQLite and PostgreSQL, DuckDB in a temp dir."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trackwell.schema import AnyRecord, Batch, History, RunStart
from trackwell.server.ingest import Ingestor


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trackwell.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ingestor(db_url: str, tmp_path: Path) -> Iterator[Ingestor]:
    ing = Ingestor.open(db_url, tmp_path / "metrics.duckdb")
    yield ing
    ing.close()


@pytest.fixture
def project() -> tuple[str, str]:
    """A fresh (entity, project): the PostgreSQL database is shared by the whole session."""
    return "team", f"proj-{uuid.uuid4().hex[:8]}"


class Journal:
    """Builds records the way the SDK numbers them: consecutive seqs per writer."""

    def __init__(self, entity: str, project: str, run_id: str, writer: str | None = None) -> None:
        self.entity, self.project, self.run_id = entity, project, run_id
        self.writer = writer or uuid.uuid4().hex
        self.seq = 0
        self.step = 0

    def _next(self) -> dict[str, Any]:
        self.seq += 1
        return {"seq": self.seq, "ts": time.time()}

    def start(self, **fields: Any) -> RunStart:
        return RunStart(**self._next(), entity=self.entity, project=self.project, run_id=self.run_id, **fields)

    def log(self, data: dict[str, Any], step: int | None = None) -> History:
        self.step = self.step if step is None else step
        rec = History(**self._next(), step=self.step, runtime=float(self.step), data=data)
        self.step += 1
        return rec

    def record(self, cls: type[AnyRecord], **fields: Any) -> AnyRecord:
        return cls(**self._next(), **fields)  # type: ignore[call-arg]

    def batch(self, records: list[AnyRecord]) -> Batch:
        return Batch(writer=self.writer, records=records)


@pytest.fixture
def journal() -> type[Journal]:
    return Journal
