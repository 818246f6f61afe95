"""Changing a run after the fact, as the query API does (``Api().run(path).update()`` and
``.delete()``): its fields, config and summary, and deleting it behind a tombstone."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata import _summaries, _tombstones
from trackwell.store.metadata._accounts import _audit
from trackwell.store.metadata._apply import add_event
from trackwell.store.metadata._blobs import RUN, drop_refs
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._summaries import ABSENT
from trackwell.store.metadata._tables import events, runs

# Replaced as given; ``config`` is merged key by key (``config_remove`` drops keys).
EDITABLE = ("name", "group", "job_type", "tags", "notes")


class SqlRunEdits(Database):
    """``RunEditStore`` on the metadata database."""

    def update_run(self, entity: str, project: str, run_id: str, fields: dict[str, Any], *,
                   config: dict[str, Any] | None = None, config_remove: Sequence[str] = (),
                   summary: dict[str, Any] | None = None, summary_remove: Sequence[str] = (),
                   actor: str | None = None) -> bool:
        """Apply the changes in one transaction; False if there is no such run. Summary keys set or
        removed here are pinned (history logged later does not change them), as ``run.summary[k] =``
        in the SDK pins them."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise ValueError(f"unknown run field(s) {sorted(unknown)}; editable fields are {list(EDITABLE)}")
        now = time.time()
        with self.write() as conn:
            row = conn.execute(for_update(sa.select(runs.c.pk, runs.c.config).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id), conn)).first()
            if row is None:
                return False
            values: dict[str, Any] = dict(fields)
            if config or config_remove:
                merged = {**row.config, **(config or {})}
                for key in config_remove:
                    merged.pop(key, None)
                values["config"] = merged
            pins = {**dict(summary or {}), **{key: ABSENT for key in summary_remove}}
            if pins:
                kept = _summaries.stored(conn, row.pk, set(pins))  # the history statistics stay
                _summaries.write(conn, row.pk, {key: (value, True, kept[key].stats if key in kept else None)
                                                for key, value in pins.items()})
            values["updated_at"] = now
            conn.execute(runs.update().where(runs.c.pk == row.pk).values(values))
            changed = sorted({*fields, *(["config"] if "config" in values else []), *(["summary"] if pins else [])})
            add_event(conn, "run_updated", row.pk, {"fields": changed}, now, actor)
        return True

    def delete_run(self, entity: str, project: str, run_id: str, actor: str | None = None) -> tuple[int, bool] | None:
        """Delete the run and everything the metadata database holds of it (summary, console,
        writers, ingest log, events, files: by cascade; its references to blobs) and leave its
        tombstone. Returns (its pk, whether
        this call deleted it), (pk, False) if it was deleted before, None if it never existed."""
        now = time.time()
        path = f"{entity}/{project}/{run_id}"
        with self.write() as conn:
            pk = conn.execute(for_update(sa.select(runs.c.pk).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id), conn)).scalar()
            if pk is None:
                gone = _tombstones.tombstone(conn, entity, project, run_id)
                return None if gone is None else (gone.pk, False)
            conn.execute(runs.delete().where(runs.c.pk == pk))
            drop_refs(conn, RUN, str(pk))  # its files' blobs: gc frees those nothing else uses
            _tombstones.bury(conn, pk, entity, project, run_id, actor, now)
            # the outbox announces it (the run's own events went with it); the audit log keeps who
            conn.execute(events.insert().values(kind="run_deleted", run_pk=None, created_at=now, actor=actor, payload={
                "entity": entity, "project": project, "run_id": run_id, "pk": pk}))
            _audit(conn, actor, "run.delete", path, {"pk": pk}, now)
        return pk, True

    def deleted_run(self, entity: str, project: str, run_id: str) -> _tombstones.Tombstone | None:
        with self.engine.connect() as conn:
            return _tombstones.tombstone(conn, entity, project, run_id)
