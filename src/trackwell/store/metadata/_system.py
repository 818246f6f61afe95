"""A run's machine: its system samples (``system/...`` values on the run's own time axis, no
step) and its metadata (host, OS, Python, git, hardware). Written by ``_apply`` in the ingest
transaction; read downsampled by row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._database import Database
from trackwell.store.metadata._summaries import insert_for
from trackwell.store.metadata._tables import run_metadata, system_samples

_IN_CHUNK = 900  # ids per IN (...): under SQLite's default variable limit


def add_system(conn: sa.Connection, run_pk: int, samples: list[dict[str, Any]], metadata: dict[str, Any],
               now: float) -> None:
    """Store a batch's samples and merge its metadata keys over the stored ones."""
    if samples:
        conn.execute(system_samples.insert(), samples)
    if metadata:
        stored = conn.execute(sa.select(run_metadata.c.data).where(run_metadata.c.run_pk == run_pk)).scalar()
        data = {**(stored or {}), **metadata}
        stmt = insert_for(conn, run_metadata).values(run_pk=run_pk, data=data, updated_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=[run_metadata.c.run_pk],
                                                set_={"data": data, "updated_at": now}))


def spread(ids: list[int], samples: int) -> list[int]:
    """At most ``samples`` of ``ids``, evenly spread, the first and the last included."""
    if len(ids) <= samples:
        return ids
    if samples == 1:
        return [ids[-1]]
    step = (len(ids) - 1) / (samples - 1)
    return [ids[round(i * step)] for i in range(samples)]


class SqlSystemStore(Database):
    """``SystemStore`` on the metadata database."""

    def run_metadata(self, run_pk: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(run_metadata.c.data, run_metadata.c.updated_at)
                               .where(run_metadata.c.run_pk == run_pk)).first()
        return None if row is None else {"metadata": row.data, "updated_at": row.updated_at}

    def system_samples(self, run_pk: int, keys: list[str] | None, samples: int) -> dict[str, Any]:
        """Columns for charts: ``runtime``, ``ts`` and each key's values (None where a sample
        lacks the key), over at most ``samples`` samples spread evenly; ``count``: all there are."""
        c = system_samples.c
        with self.engine.connect() as conn:
            ids = list(conn.execute(sa.select(c.id).where(c.run_pk == run_pk).order_by(c.id)).scalars())
            picked = spread(ids, samples)
            rows: list[Any] = []
            for i in range(0, len(picked), _IN_CHUNK):
                rows += conn.execute(sa.select(c.ts, c.runtime, c.data).where(c.id.in_(picked[i:i + _IN_CHUNK]))
                                     .order_by(c.id)).all()
        every = sorted({k for r in rows for k in r.data})
        wanted = every if keys is None else [k for k in keys if k in every]
        return {"count": len(ids), "keys": every, "runtime": [r.runtime for r in rows], "ts": [r.ts for r in rows],
                "series": {k: [r.data.get(k) for r in rows] for k in wanted}}
