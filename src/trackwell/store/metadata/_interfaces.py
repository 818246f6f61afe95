"""What the server's services need from the metadata database, one small interface per concern.

``MetadataStore`` implements them all over one engine (SQLite or PostgreSQL); services type
against these, so a concern can move to another store without them noticing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from trackwell.schema import AnyRecord
from trackwell.schema.summary import KeyStats
from trackwell.store.metadata._log import LogEntry, WriterRow
from trackwell.store.metrics import HistoryStats, Segment

Run = dict[str, Any]  # a run as the API shows it (``run_to_api``)


@runtime_checkable
class RunStore(Protocol):
    """Runs: identity, fields, listing, fork lineage, per-metric summaries."""

    def run_pk(self, entity: str, project: str, run_id: str) -> int | None: ...

    def get_run(self, entity: str, project: str, run_id: str) -> Run | None: ...

    def run_by_pk(self, run_pk: int) -> Run: ...

    def ensure_run(self, entity: str, project: str, run_id: str, **fields: Any) -> int: ...

    def upsert_run(self, entity: str, project: str, run_id: str, fields: dict[str, Any]) -> Run: ...

    def list_runs(self, entity: str, project: str, *, filters: Any = None, order: str = "-created_at",
                  limit: int = 50, cursor: str | None = None) -> tuple[list[Run], str | None]: ...

    def lineage(self, entity: str, project: str, run_id: str) -> tuple[int, list[Segment]] | None: ...

    def forks_after(self, entity: str, project: str, run_id: str, step: int) -> list[tuple[str, int]]: ...

    def create_fork(self, entity: str, project: str, run_id: str, parent: Run, step: int,
                    ancestors: Sequence[Segment], stats: HistoryStats, fields: dict[str, Any]) -> bool: ...

    def rewound(self, run_pk: int, step: int, hidden: int, stats: HistoryStats) -> None: ...

    def metric_summaries(self, run_pk: int) -> dict[str, dict[str, Any]]: ...


@runtime_checkable
class StateStore(Protocol):
    """Run states: heartbeats, stop, preempting, the crash reaper."""

    def run_state(self, run_pk: int) -> str | None: ...

    def heartbeat(self, run_pk: int) -> str: ...

    def mark_preempting(self, run_pk: int) -> str: ...

    def stop_run(self, run_pk: int) -> None: ...

    def reap(self, silent_since: float) -> list[int]: ...


class Accepting(Protocol):
    """One accept transaction (``IngestLogStore.accepting``): the run row locked, its writers."""

    run: dict[str, Any]
    writers: dict[str, WriterRow]

    def add_writer(self, w: WriterRow) -> None: ...

    def update_writer(self, writer: str, **values: Any) -> None: ...

    def append(self, writer: str, first: int, last: int, body: bytes, now: float) -> None: ...


@runtime_checkable
class IngestLogStore(Protocol):
    """The ingest log, the run's writers and their marks, applying and quarantining entries."""

    def accepting(self, run_pk: int) -> AbstractContextManager[Accepting]: ...

    def writers(self, run_pk: int) -> dict[str, WriterRow]: ...

    def writer_mark(self, run_pk: int, writer: str) -> int: ...

    def log_entries(self, run_pk: int, limit: int = 64) -> list[LogEntry]: ...

    def log_body(self, entry_id: int) -> bytes: ...

    def pending_runs(self) -> list[tuple[int, str, str, str]]: ...

    def set_offsets(self, run_pk: int, writer: str, step_offset: int, runtime_offset: float) -> None: ...

    def apply_entry(self, run_pk: int, writer: str, entry_id: int, records: Sequence[AnyRecord],
                    stats: dict[str, KeyStats], others_last: dict[str, tuple[int, Any]],
                    expected_mark: int) -> None: ...

    def count_attempt(self, entry_id: int) -> None: ...

    def quarantine_entry(self, run_pk: int, writer: str, entry: LogEntry, store: str, error: str,
                         now: float) -> None: ...


@runtime_checkable
class ConsoleStore(Protocol):
    def console(self, run_pk: int, offset: int = 0, limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]: ...


@runtime_checkable
class EventStore(Protocol):
    """The outbox: state changes written in the same transaction as the change."""

    def events(self, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...
