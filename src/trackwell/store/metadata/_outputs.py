"""What runs leave behind to be read: console lines, and the outbox of state-change events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._database import Database
from trackwell.store.metadata._tables import console_lines, events


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
