"""Sweeps on the metadata database. A dispatch decision happens inside ``SweepStore.locked``:
one write transaction holding the sweep's row (``FOR UPDATE`` on PostgreSQL; SQLite writers take
turns), so the runs the controller reads are the ones it adds to, and two agents never get the
same combination or one run past ``run_cap``. The unique ``(sweep, combo_key)`` backs that up."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._sweep_tables import sweep_agents, sweep_runs, sweeps
from trackwell.store.metadata._tables import run_summary, runs

Sweep = dict[str, Any]
_SWEEP_COLUMNS = ("pk", "entity", "project", "sweep_id", "name", "method", "config", "state", "reason", "seed",
                  "created_at", "updated_at", "created_by")


class SweepTxn:
    """One sweep's rows inside a write transaction that holds the sweep."""

    def __init__(self, conn: sa.Connection, sweep: Sweep) -> None:
        self.conn, self.sweep = conn, sweep

    def runs(self, metric: str | None) -> list[dict[str, Any]]:
        return _runs(self.conn, self.sweep, metric)

    def add_run(self, run_id: str, params: dict[str, Any], combo_key: str | None, status: str,
                agent_id: str | None, now: float) -> None:
        self.conn.execute(sweep_runs.insert().values(
            sweep_pk=self.sweep["pk"], run_id=run_id, params=params, combo_key=combo_key, status=status,
            agent_id=agent_id, assigned_at=now if agent_id else None, created_at=now))

    def update_run(self, run_id: str, **values: Any) -> None:
        sr = sweep_runs.c
        self.conn.execute(sweep_runs.update().where(sr.sweep_pk == self.sweep["pk"], sr.run_id == run_id)
                          .values(**values))

    def set_state(self, state: str, reason: str | None, now: float) -> None:
        self.conn.execute(sweeps.update().where(sweeps.c.pk == self.sweep["pk"])
                          .values(state=state, reason=reason, updated_at=now))
        self.sweep.update(state=state, reason=reason, updated_at=now)

    def agents(self) -> list[dict[str, Any]]:
        a = sweep_agents.c
        rows = self.conn.execute(sa.select(a.agent_id, a.state, a.heartbeat_at, a.host, a.pid)
                                 .where(a.sweep_pk == self.sweep["pk"]).order_by(a.pk)).mappings()
        return [dict(r) for r in rows]

    def add_agent(self, agent_id: str, host: str | None, pid: int | None, actor: str | None, now: float) -> None:
        self.conn.execute(sweep_agents.insert().values(
            sweep_pk=self.sweep["pk"], agent_id=agent_id, host=host, pid=pid, state="active", heartbeat_at=now,
            created_at=now, created_by=actor))

    def touch_agent(self, agent_id: str, now: float, state: str = "active") -> None:
        a = sweep_agents.c
        self.conn.execute(sweep_agents.update().where(a.sweep_pk == self.sweep["pk"], a.agent_id == agent_id)
                          .values(heartbeat_at=now, state=state))


class SqlSweepStore(Database):
    """``SweepStore`` on the metadata database."""

    def create_sweep(self, entity: str, project: str, sweep_id: str, *, name: str | None, method: str,
                     config: dict[str, Any], seed: int, actor: str | None,
                     prior: list[tuple[str, dict[str, Any], str | None]]) -> Sweep | None:
        """A new sweep, seeded with ``prior`` runs (id, params, combination key); None when
        ``sweep_id`` is taken in the project."""
        now = time.time()
        with self.write() as conn:
            taken = conn.execute(sa.select(sweeps.c.pk).where(
                sweeps.c.entity == entity, sweeps.c.project == project, sweeps.c.sweep_id == sweep_id)).first()
            if taken is not None:
                return None
            inserted = conn.execute(sweeps.insert().values(
                entity=entity, project=project, sweep_id=sweep_id, name=name, method=method, config=config,
                state="running", seed=seed, created_at=now, updated_at=now, created_by=actor)).inserted_primary_key
            assert inserted is not None
            pk = inserted[0]
            sweep = _sweep(conn, sweeps.c.pk == pk)
            assert sweep is not None
            txn = SweepTxn(conn, sweep)
            seen: set[str] = set()
            for run_id, params, key in prior:  # two prior runs may share a combination: it counts once
                txn.add_run(run_id, params, None if key in seen else key, "prior", None, now)
                if key:
                    seen.add(key)
            return sweep

    def get_sweep(self, entity: str, project: str, sweep_id: str) -> Sweep | None:
        with self.engine.connect() as conn:
            return _sweep(conn, sa.and_(sweeps.c.entity == entity, sweeps.c.project == project,
                                        sweeps.c.sweep_id == sweep_id))

    def list_sweeps(self, entity: str, project: str) -> list[Sweep]:
        s = sweeps.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(getattr(s, c) for c in _SWEEP_COLUMNS))
                                .where(s.entity == entity, s.project == project).order_by(s.created_at.desc()))
            return [dict(r._mapping) for r in rows]

    def running_sweeps(self) -> list[Sweep]:
        s = sweeps.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(getattr(s, c) for c in _SWEEP_COLUMNS)).where(s.state == "running"))
            return [dict(r._mapping) for r in rows]

    def sweep_runs(self, sweep: Sweep, metric: str | None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return _runs(conn, sweep, metric)

    def sweep_agents(self, sweep: Sweep) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return SweepTxn(conn, sweep).agents()

    @contextlib.contextmanager
    def locked(self, sweep_pk: int) -> Iterator[SweepTxn]:
        """A write transaction holding the sweep (its row locked on PostgreSQL)."""
        with self.write() as conn:
            s = sweeps.c
            conn.execute(for_update(sa.select(s.pk).where(s.pk == sweep_pk), conn)).one()
            sweep = _sweep(conn, s.pk == sweep_pk)
            assert sweep is not None
            yield SweepTxn(conn, sweep)


def _sweep(conn: sa.Connection, where: Any) -> Sweep | None:
    s = sweeps.c
    row = conn.execute(sa.select(*(getattr(s, c) for c in _SWEEP_COLUMNS)).where(where)).first()
    return None if row is None else dict(row._mapping)


def _runs(conn: sa.Connection, sweep: Sweep, metric: str | None) -> list[dict[str, Any]]:
    """The sweep's runs in the order handed out, each with its run's state, pk and the metric's
    summary value (None where the run has not started or not logged it)."""
    sr, r, rs = sweep_runs.c, runs.c, run_summary.c
    joined = sweep_runs.outerjoin(runs, sa.and_(r.entity == sweep["entity"], r.project == sweep["project"],
                                                r.run_id == sr.run_id))
    columns = [sr.run_id, sr.params, sr.combo_key, sr.status, sr.agent_id, sr.assigned_at, sr.resumes,
               sr.stop_reason, sr.created_at, r.pk.label("run_pk"), r.state.label("run_state"),
               r.updated_at.label("run_updated_at")]
    if metric is not None:
        joined = joined.outerjoin(run_summary, sa.and_(rs.run_pk == r.pk, rs.key == metric))
        columns.append(rs.num.label("value"))
    rows = conn.execute(sa.select(*columns).select_from(joined).where(sr.sweep_pk == sweep["pk"]).order_by(sr.pk))
    return [{"value": None, **dict(row._mapping)} for row in rows]
