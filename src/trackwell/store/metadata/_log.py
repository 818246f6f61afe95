"""The ingest log and the run's writers, inside the caller's transaction.

A batch is appended to ``ingest_log`` and the writer's ``accepted_seq`` moves in one transaction:
that is the moment the server owns the records (the client's ack). Projections into the stores
read the log in ``id`` order and delete an entry once every store has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._tables import ingest_log, ingest_quarantine, run_writers


@dataclass
class WriterRow:
    """One journal writer of a run, as the ingest and lease rules see it."""

    writer: str
    applied_seq: int = 0
    accepted_seq: int = 0
    last_step: int | None = None
    step_offset: int = 0
    runtime_offset: float = 0.0
    lease_at: float | None = None
    claimed_at: float | None = None
    ended: bool = False
    waiting: bool = False
    shared: bool = False
    is_primary: bool = True
    label: str | None = None
    host: str | None = None
    pid: int | None = None
    after: dict[str, int] = field(default_factory=dict)
    parent: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> WriterRow:
        m = row._mapping
        return cls(writer=m["writer"], applied_seq=int(m["applied_seq"] or 0),
                   accepted_seq=int(m["accepted_seq"] or 0), last_step=m["last_step"],
                   step_offset=int(m["step_offset"] or 0), runtime_offset=float(m["runtime_offset"] or 0.0),
                   lease_at=m["lease_at"], claimed_at=m["claimed_at"], ended=bool(m["ended"]),
                   waiting=bool(m["waiting"]), shared=bool(m["shared"]),
                   is_primary=m["is_primary"] is None or bool(m["is_primary"]), label=m["label"],
                   host=m["host"], pid=m["pid"], after=dict(m["after"] or {}), parent=m["parent"])

    def describe(self) -> str:
        who = f"{self.host or 'an unknown host'} pid {self.pid if self.pid is not None else '?'}"
        return f"writer {self.writer[:12]}" + (f" ({self.label})" if self.label else "") + f" on {who}"


@dataclass
class LogEntry:
    id: int
    writer: str
    first_seq: int
    last_seq: int
    attempts: int


_W = run_writers.c
_L = ingest_log.c


def writers(conn: sa.Connection, run_pk: int, lock: bool = False) -> dict[str, WriterRow]:
    query = sa.select(run_writers).where(_W.run_pk == run_pk)
    rows = conn.execute(for_update(query, conn) if lock else query)
    return {w.writer: w for w in map(WriterRow.from_row, rows)}


def insert_writer(conn: sa.Connection, run_pk: int, w: WriterRow) -> None:
    conn.execute(run_writers.insert().values(
        run_pk=run_pk, writer=w.writer, applied_seq=0, accepted_seq=0, lease_at=w.lease_at,
        claimed_at=w.claimed_at, shared=w.shared, is_primary=w.is_primary, label=w.label, host=w.host,
        pid=w.pid, after=w.after, waiting=w.waiting, ended=w.ended, step_offset=w.step_offset,
        runtime_offset=w.runtime_offset, parent=w.parent))


def update_writer(conn: sa.Connection, run_pk: int, writer: str, **values: Any) -> None:
    conn.execute(run_writers.update().where(_W.run_pk == run_pk, _W.writer == writer).values(**values))


def append(conn: sa.Connection, run_pk: int, writer: str, first: int, last: int, body: bytes, now: float) -> None:
    conn.execute(ingest_log.insert().values(run_pk=run_pk, writer=writer, first_seq=first, last_seq=last,
                                            body=body, attempts=0, created_at=now))


def entries(conn: sa.Connection, run_pk: int, limit: int = 64) -> list[LogEntry]:
    rows = conn.execute(sa.select(_L.id, _L.writer, _L.first_seq, _L.last_seq, _L.attempts)
                        .where(_L.run_pk == run_pk).order_by(_L.id).limit(limit))
    return [LogEntry(r.id, r.writer, int(r.first_seq), int(r.last_seq), int(r.attempts)) for r in rows]


def body(conn: sa.Connection, entry_id: int) -> bytes:
    return bytes(conn.execute(sa.select(_L.body).where(_L.id == entry_id)).scalar_one())


def delete(conn: sa.Connection, entry_id: int) -> None:
    conn.execute(ingest_log.delete().where(_L.id == entry_id))


def count_attempt(conn: sa.Connection, entry_id: int) -> None:
    conn.execute(ingest_log.update().where(_L.id == entry_id).values(attempts=_L.attempts + 1))


def pending_runs(conn: sa.Connection, limit: int = 1000) -> list[int]:
    return [pk for (pk,) in conn.execute(sa.select(_L.run_pk).distinct().limit(limit))]


def quarantine(conn: sa.Connection, run_pk: int, entry: LogEntry, store: str, error: str, now: float) -> None:
    conn.execute(ingest_quarantine.insert().values(
        run_pk=run_pk, writer=entry.writer, first_seq=entry.first_seq, last_seq=entry.last_seq,
        body=body(conn, entry.id), store=store, error=error[:4000], created_at=now))
