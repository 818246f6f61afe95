"""Run states: heartbeats, stop, preempting and the crash reaper, each change with its outbox
event in the same transaction (transitions: ``_lifecycle``)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._apply import add_event, mark_preempting, touch
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import (
    ACTIVE,
    KILLED,
    PREEMPTING,
    RUNNING,
    LifecycleError,
    for_update,
    silent_state,
)
from trackwell.store.metadata._tables import runs


class SqlStateStore(Database):
    """``StateStore`` on the metadata database."""

    def run_state(self, run_pk: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs.c.state).where(runs.c.pk == run_pk)).scalar()

    def heartbeat(self, run_pk: int) -> str:
        """An empty batch: the writer is alive. Returns the run's state."""
        return self._change(run_pk, touch)

    def mark_preempting(self, run_pk: int) -> str:
        """``run.mark_preempting()``'s out-of-band call, ahead of queued batches."""
        return self._change(run_pk, mark_preempting)

    def _change(self, run_pk: int, change: Any) -> str:
        now = time.time()
        with self.write() as conn:
            row = conn.execute(for_update(sa.select(runs.c.state, runs.c.heartbeat_at).where(
                runs.c.pk == run_pk), conn)).mappings().one()
            before = dict(row)
            run = dict(before)
            change(conn, run, run_pk, now)
            if run != before:
                conn.execute(runs.update().where(runs.c.pk == run_pk).values(**run, updated_at=now))
        return str(run["state"])

    def stop_run(self, run_pk: int, actor: str | None = None) -> None:
        """Mark the run killed; its process learns it with its next upload or heartbeat."""
        now = time.time()
        with self.write() as conn:
            state = conn.execute(for_update(sa.select(runs.c.state).where(runs.c.pk == run_pk), conn)).scalar_one()
            if state == KILLED:
                return
            if state not in ACTIVE:
                raise LifecycleError(f"the run already ended ({state}); only a running, preempting or "
                                     "crashed run can be stopped")
            conn.execute(runs.update().where(runs.c.pk == run_pk).values(state=KILLED, updated_at=now))
            add_event(conn, "run_killed", run_pk, {"previous_state": state}, now, actor)

    def reap(self, silent_since: float) -> list[int]:
        """Runs still active but not heard from since ``silent_since``: running ones become
        crashed, preempting ones preempted. Returns their pks."""
        r = runs.c
        now = time.time()
        silent = sa.and_(r.state.in_([RUNNING, PREEMPTING]),
                         sa.func.coalesce(r.heartbeat_at, r.created_at) < silent_since)
        with self.write() as conn:
            rows = conn.execute(for_update(sa.select(r.pk, r.state).where(silent), conn)).all()
            for pk, state in rows:
                new_state, event = silent_state(state)
                conn.execute(runs.update().where(r.pk == pk).values(state=new_state, updated_at=now))
                add_event(conn, event, pk, {"reason": "no heartbeat", "silent_since": silent_since}, now)
        return [pk for pk, _ in rows]
