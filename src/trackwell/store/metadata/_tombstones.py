"""Deleted runs' tombstones (``deleted_runs``): what keeps a deleted run deleted.

A run is created in one place (``SqlRunStore._create``) and accepted into in one place
(``Acceptance``); both ask here, so a late batch of a deleted run's process, a resumed journal
or a ``PUT`` of its id is refused with ``RunDeleted`` instead of bringing the run back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from trackwell.store.metadata._tables import deleted_runs, runs

_D = deleted_runs.c


class RunDeleted(LookupError):
    """The run was deleted: its id cannot be written to or created again (HTTP 410)."""

    def __init__(self, entity: str, project: str, run_id: str, deleted_at: float, deleted_by: str | None) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(deleted_at))
        by = f" by {deleted_by}" if deleted_by else ""
        super().__init__(f"run {entity}/{project}/{run_id} was deleted{by} at {when}; its id cannot be used again: "
                         "start a new run (another id) to log more")
        self.entity, self.project, self.run_id = entity, project, run_id
        self.api_fields = {"error": "run_deleted", "deleted_at": deleted_at}


@dataclass(frozen=True)
class Tombstone:
    pk: int
    entity: str
    project: str
    run_id: str
    deleted_at: float
    deleted_by: str | None

    def error(self) -> RunDeleted:
        return RunDeleted(self.entity, self.project, self.run_id, self.deleted_at, self.deleted_by)


def tombstone(conn: sa.Connection, entity: str, project: str, run_id: str) -> Tombstone | None:
    row = conn.execute(sa.select(deleted_runs).where(
        _D.entity == entity, _D.project == project, _D.run_id == run_id)).first()
    return None if row is None else Tombstone(*row)


def tombstone_of_pk(conn: sa.Connection, pk: int) -> Tombstone | None:
    row = conn.execute(sa.select(deleted_runs).where(_D.pk == pk)).first()
    return None if row is None else Tombstone(*row)


def refuse_deleted(conn: sa.Connection, entity: str, project: str, run_id: str) -> None:
    """``RunDeleted`` if the run was deleted (before a run is created)."""
    found = tombstone(conn, entity, project, run_id)
    if found is not None:
        raise found.error()


def bury(conn: sa.Connection, pk: int, entity: str, project: str, run_id: str, actor: str | None,
         now: float) -> None:
    conn.execute(deleted_runs.insert().values(pk=pk, entity=entity, project=project, run_id=run_id,
                                              deleted_at=now, deleted_by=actor))


def next_pk(conn: sa.Connection) -> int | None:
    """The pk a new run gets on SQLite, past every deleted one too (SQLite would reuse the
    highest pk once its row is gone); None on PostgreSQL, whose sequence never goes back."""
    if conn.dialect.name != "sqlite":
        return None
    highest = conn.execute(sa.select(sa.func.max(runs.c.pk))).scalar() or 0
    buried = conn.execute(sa.select(sa.func.max(_D.pk))).scalar() or 0
    return max(highest, buried) + 1
