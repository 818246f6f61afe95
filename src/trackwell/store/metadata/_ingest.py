"""The ingest side of the metadata database: accepting batches into the log, writer rows,
projecting log entries (records applied + entry deleted in one transaction), quarantine."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.schema import AnyRecord
from trackwell.schema.summary import KeyStats
from trackwell.store.metadata import _log
from trackwell.store.metadata._apply import add_event, apply_records
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._log import LogEntry, WriterRow
from trackwell.store.metadata._tables import run_writers, runs
from trackwell.store.metadata._tombstones import tombstone_of_pk


class Acceptance:
    """One accept transaction: what the ingest service reads and changes while it decides."""

    def __init__(self, conn: sa.Connection, run_pk: int) -> None:
        self.conn = conn
        self.run_pk = run_pk
        # Lock the run row (PostgreSQL): accepts of one run by several server processes take turns.
        row = conn.execute(for_update(sa.select(runs.c.state, runs.c.fork_parent).where(
            runs.c.pk == run_pk), conn)).mappings().first()
        if row is None:  # deleted since its pk was looked up (a server process caches pks)
            gone = tombstone_of_pk(conn, run_pk)
            raise gone.error() if gone is not None else LookupError(f"run {run_pk} does not exist")
        self.run = dict(row)
        self.writers = _log.writers(conn, run_pk)

    def add_writer(self, w: WriterRow) -> None:
        _log.insert_writer(self.conn, self.run_pk, w)
        self.writers[w.writer] = w

    def update_writer(self, writer: str, **values: Any) -> None:
        _log.update_writer(self.conn, self.run_pk, writer, **values)

    def append(self, writer: str, first: int, last: int, body: bytes, now: float) -> None:
        _log.append(self.conn, self.run_pk, writer, first, last, body, now)


class SqlIngestLog(Database):
    """``IngestLogStore`` on the metadata database (see ``_log``)."""

    @contextlib.contextmanager
    def accepting(self, run_pk: int) -> Iterator[Acceptance]:
        """One transaction in which a batch is checked and appended to the log."""
        with self.write() as conn:
            yield Acceptance(conn, run_pk)

    def writers(self, run_pk: int) -> dict[str, WriterRow]:
        with self.engine.connect() as conn:
            return _log.writers(conn, run_pk)

    def writer_mark(self, run_pk: int, writer: str) -> int:
        """The writer's seq applied to this database (its projection checkpoint)."""
        with self.engine.connect() as conn:
            mark = conn.execute(sa.select(run_writers.c.applied_seq).where(
                run_writers.c.run_pk == run_pk, run_writers.c.writer == writer)).scalar()
        return int(mark or 0)

    def log_entries(self, run_pk: int, limit: int = 64) -> list[LogEntry]:
        with self.engine.connect() as conn:
            return _log.entries(conn, run_pk, limit)

    def log_body(self, entry_id: int) -> bytes:
        with self.engine.connect() as conn:
            return _log.body(conn, entry_id)

    def pending_runs(self) -> list[tuple[int, str, str, str]]:
        """Runs with log entries not yet projected: (pk, entity, project, run_id)."""
        with self.engine.connect() as conn:
            pks = _log.pending_runs(conn)
            if not pks:
                return []
            rows = conn.execute(sa.select(runs.c.pk, runs.c.entity, runs.c.project, runs.c.run_id)
                                .where(runs.c.pk.in_(pks)))
            return [(r.pk, r.entity, r.project, r.run_id) for r in rows]

    def set_offsets(self, run_pk: int, writer: str, step_offset: int, runtime_offset: float) -> None:
        with self.write() as conn:
            _log.update_writer(conn, run_pk, writer, step_offset=step_offset, runtime_offset=runtime_offset,
                               waiting=False)

    def apply_entry(self, run_pk: int, writer: str, entry_id: int | Sequence[int], records: Sequence[AnyRecord],
                    stats: dict[str, KeyStats], others_last: dict[str, tuple[int, Any]], expected_mark: int) -> None:
        """Apply the entry's (or consecutive entries') records past this database's mark and drop
        the entries, atomically."""
        with self.write() as conn:
            query = for_update(sa.select(run_writers.c.applied_seq).where(
                run_writers.c.run_pk == run_pk, run_writers.c.writer == writer), conn)
            if int(conn.execute(query).scalar() or 0) != expected_mark:
                raise RuntimeError(f"writer {writer} of run {run_pk} was projected concurrently")
            if records:
                apply_records(conn, run_pk, writer, records, stats, others_last, time.time())
            for each in [entry_id] if isinstance(entry_id, int) else entry_id:
                _log.delete(conn, each)

    def count_attempt(self, entry_id: int) -> None:
        with self.write() as conn:
            _log.count_attempt(conn, entry_id)

    def quarantine_entry(self, run_pk: int, writer: str, entry: LogEntry, store: str, error: str,
                         now: float) -> None:
        """Keep the entry aside, move this database's mark past it, drop it from the log."""
        with self.write() as conn:
            _log.quarantine(conn, run_pk, entry, store, error, now)
            _log.update_writer(conn, run_pk, writer, applied_seq=sa.func.max(run_writers.c.applied_seq, entry.last_seq)
                               if conn.dialect.name == "sqlite" else
                               sa.func.greatest(run_writers.c.applied_seq, entry.last_seq))
            add_event(conn, "ingest_quarantined", run_pk, {"writer": writer, "first_seq": entry.first_seq,
                                                          "last_seq": entry.last_seq, "store": store,
                                                          "error": error[:500]}, now)
            _log.delete(conn, entry.id)
