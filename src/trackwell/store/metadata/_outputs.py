"""What runs leave behind to be read: console lines, and the outbox of state-change events.

Events are read by cursor (``id`` > the last one seen, oldest first). Ingest bookkeeping
(``metrics_applied``, one per projected batch) is pruned after ``EVENT_RETENTION_DAYS``
(``TRACKWELL_EVENT_RETENTION_DAYS``, default 7); lifecycle events (created, stopped by whom,
rewound, forked...) are the run's history and stay.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from trackwell._env import env_float
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._tables import console_lines, events

EVENT_RETENTION_DAYS = env_float("TRACKWELL_EVENT_RETENTION_DAYS", 7.0)
BOOKKEEPING = ("metrics_applied",)  # the event kinds ``prune_events`` deletes
_PRUNE_CHUNK = 10_000  # rows per delete transaction: a backlog never holds the write lock long


class SqlConsoleStore(Database):
    """``ConsoleStore`` on the metadata database."""

    def console(self, run_pk: int, offset: int = 0, limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        c = console_lines.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.line, c.stream, c.text, c.ts).where(
                c.run_pk == run_pk, c.line >= offset).order_by(c.line).limit(limit + 1)).all()
        next_offset = rows[limit].line if len(rows) > limit else None
        return [{"stream": r.stream, "text": r.text, "ts": r.ts} for r in rows[:limit]], next_offset


class SqlEventStore(Database):
    """``EventStore`` on the metadata database: the outbox."""

    def events(self, after_id: int = 0, limit: int = 1000, run_pk: int | None = None) -> list[dict[str, Any]]:
        """Outbox events with id > ``after_id`` (of one run, if given), oldest first."""
        e = events.c
        q = sa.select(events).where(e.id > after_id).order_by(e.id).limit(limit)
        if run_pk is not None:
            q = q.where(e.run_pk == run_pk)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [{"id": r.id, "kind": r.kind, "run_pk": r.run_pk, "payload": r.payload, "created_at": r.created_at,
                 "actor": r.actor} for r in rows]

    def prune_events(self, older_than: float) -> int:
        """Delete bookkeeping events (``BOOKKEEPING``) created before ``older_than`` (Unix
        seconds), a chunk per transaction; returns how many were deleted."""
        e = events.c
        total = 0
        while True:
            oldest = (sa.select(e.id).where(e.created_at < older_than, e.kind.in_(BOOKKEEPING))
                      .order_by(e.created_at).limit(_PRUNE_CHUNK))
            with self.write() as conn:
                deleted = conn.execute(events.delete().where(e.id.in_(oldest))).rowcount
            total += deleted
            if deleted < _PRUNE_CHUNK:
                return total
