"""One process's stores and services without HTTP: what benchmarks (``bench/``) and in-process
delivery (``tests/delivery``, ``InProcessSink``) drive. ``Ingestor.open(db_url, metrics_path)``;
``receive``/``apply``/``apply_bytes`` go to the ingest service, ``services`` has the others, and
``metadata``/``metrics`` are the stores, to read back what landed. The server wires the same
``Services`` in its app."""

from __future__ import annotations

from pathlib import Path

from trackwell.schema import Ack, Batch
from trackwell.server.leases import DEFAULT_LEASE_TIMEOUT
from trackwell.server.services import (
    ConcurrentIngest,
    InvalidBatch,
    ResumeConflict,
    SequenceGap,
    Services,
    WriterConflict,
)
from trackwell.store import Stores, open_stores

__all__ = ["ConcurrentIngest", "Ingestor", "InvalidBatch", "ResumeConflict", "SequenceGap", "WriterConflict"]


class Ingestor:
    def __init__(self, stores: Stores, *, lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
                 project_inline: bool = True) -> None:
        self.stores = stores
        self.metadata, self.metrics = stores.metadata, stores.metrics
        self.services = Services.over(stores, lease_timeout=lease_timeout, project_inline=project_inline)

    @classmethod
    def open(cls, db_url: str, metrics_path: str | Path, *, lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
             project_inline: bool = True) -> Ingestor:
        """Open both stores (migrating the database)."""
        return cls(open_stores(db_url, metrics_path), lease_timeout=lease_timeout, project_inline=project_inline)

    def close(self) -> None:
        self.stores.close()

    def receive(self, entity: str, project: str, run_id: str, batch: Batch) -> Ack:
        return self.services.ingest.receive(entity, project, run_id, batch)

    def apply(self, entity: str, project: str, run_id: str, batch: Batch) -> int:
        return self.services.ingest.apply(entity, project, run_id, batch)

    def apply_bytes(self, entity: str, project: str, run_id: str, body: bytes) -> int:
        return self.services.ingest.apply_bytes(entity, project, run_id, body)

    def catch_up(self) -> int:
        return self.services.ingest.catch_up()
