"""Applying journal records to the metadata database, inside the caller's transaction: each
record type has its handler (``APPLY``); the batch's history statistics are folded in once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    History,
    Preempting,
    RunStart,
    Skipped,
    SummaryUpdate,
)
from trackwell.schema.summary import KeyStats, advance_step, summarize
from trackwell.store.metadata._lifecycle import (
    CRASHED,
    PREEMPTING,
    RUNNING,
    exit_state,
    for_update,
)
from trackwell.store.metadata._tables import (
    console_lines,
    events,
    metric_summaries,
    run_writers,
    runs,
)


def insert_for(conn: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (same API on SQLite and PostgreSQL)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def add_event(conn: sa.Connection, kind: str, run_pk: int, payload: dict[str, Any], now: float,
              actor: str | None = None) -> None:
    conn.execute(events.insert().values(kind=kind, run_pk=run_pk, payload=payload, created_at=now, actor=actor))


def _merge_metric_summaries(conn: sa.Connection, run_pk: int, stats: dict[str, KeyStats]) -> dict[str, KeyStats]:
    merged = dict(stats)
    keys = list(stats)
    ms = metric_summaries.c
    for i in range(0, len(keys), 500):
        rows = conn.execute(sa.select(ms.key, ms.count, ms.sum, ms.min, ms.max, ms.last, ms.last_step)
                            .where(ms.run_pk == run_pk, ms.key.in_(keys[i:i + 500])))
        for key, count, total, lo, hi, last, last_step in rows:
            merged[key] = KeyStats(count, total, lo, hi, last, last_step).merged(stats[key])
    if merged:
        stmt = insert_for(conn, metric_summaries)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ms.run_pk, ms.key],
            set_={c: stmt.excluded[c] for c in ("last", "last_step", "min", "max", "count", "sum")})
        conn.execute(stmt, [{"run_pk": run_pk, "key": k, "last": s.last, "last_step": s.last_step,
                             "min": s.min, "max": s.max, "count": s.count, "sum": s.sum}
                            for k, s in merged.items()])
    return merged


def touch(conn: sa.Connection, run: dict[str, Any], run_pk: int, now: float) -> None:
    """The run was heard from: a heartbeat at server time (client clocks may be off), and a
    crashed run is running again (it was only cut off, e.g. by a network partition)."""
    run["heartbeat_at"] = now
    if run["state"] == CRASHED:
        run["state"] = RUNNING
        add_event(conn, "run_recovered", run_pk, {}, now)


def mark_preempting(conn: sa.Connection, run: dict[str, Any], run_pk: int, now: float) -> None:
    """Idempotent: the SDK sends it out of band and journals it too."""
    if run["state"] in (RUNNING, CRASHED):
        run["state"] = PREEMPTING
        add_event(conn, "run_preempting", run_pk, {}, now)


class _Applying:
    """One run's row while a writer's records are applied to it, and what they add besides."""

    def __init__(self, conn: sa.Connection, run_pk: int, writer: str, now: float) -> None:
        self.conn, self.run_pk, self.writer, self.now = conn, run_pk, writer, now
        row = conn.execute(for_update(sa.select(runs).where(runs.c.pk == run_pk), conn)).mappings().one()
        self.run: dict[str, Any] = dict(row)
        for key in ("config", "summary", "metric_modes"):
            self.run[key] = dict(self.run[key])
        self.pinned: set[str] = set(self.run["pinned"])
        self.console_rows: list[dict[str, Any]] = []
        self.history_seqs: list[int] = []

    def event(self, kind: str, payload: dict[str, Any]) -> None:
        add_event(self.conn, kind, self.run_pk, payload, self.now)


def _history(a: _Applying, rec: History) -> None:
    # its points are in the batch statistics (``stats``); the row keeps the runtime
    a.history_seqs.append(rec.seq)
    a.run["runtime"] = max(a.run["runtime"] or 0.0, rec.runtime)


def _run_start(a: _Applying, rec: RunStart) -> None:
    run = a.run
    for field in ("name", "group", "job_type", "notes", "host", "program", "python"):
        value = getattr(rec, field)
        if value is not None:
            run[field] = value
    if rec.tags:
        run["tags"] = list(rec.tags)
    run["config"].update(rec.config)
    others = a.conn.execute(sa.select(sa.func.count()).select_from(run_writers).where(
        run_writers.c.run_pk == a.run_pk, run_writers.c.writer != a.writer)).scalar_one()
    if others:  # another process wrote this run before: it is being resumed
        a.event("run_resumed", {"writer": a.writer, "previous_state": run["state"]})
    run["state"], run["exit_code"] = RUNNING, None


def _config(a: _Applying, rec: ConfigUpdate) -> None:
    a.run["config"].update(rec.data)


def _summary(a: _Applying, rec: SummaryUpdate) -> None:
    summary = a.run["summary"]
    summary.update(rec.update)
    a.pinned.update(rec.update)
    for key in rec.remove:  # stays pinned: later history must not bring it back
        summary.pop(key, None)
        a.pinned.add(key)


def _define_metric(a: _Applying, rec: DefineMetric) -> None:
    if rec.summary is not None:
        a.run["metric_modes"][rec.name] = rec.summary


def _console(a: _Applying, rec: Console) -> None:
    run = a.run
    for text in rec.lines:
        a.console_rows.append({"run_pk": a.run_pk, "line": run["console_count"], "stream": rec.stream,
                               "text": text, "ts": rec.ts})
        run["console_count"] += 1


def _exit(a: _Applying, rec: Exit) -> None:
    run = a.run
    run["state"], event = exit_state(run["state"], rec.exit_code)
    run["exit_code"] = rec.exit_code
    run["runtime"] = max(run["runtime"] or 0.0, rec.runtime)
    if event is not None:
        a.event(event, {"exit_code": rec.exit_code, "runtime": rec.runtime})


def _preempting(a: _Applying, _rec: Preempting) -> None:
    mark_preempting(a.conn, a.run, a.run_pk, a.now)


def _skipped(_a: _Applying, _rec: Skipped) -> None:
    """A placeholder for a record the client set aside: it only keeps the seqs gap-free."""


# Every record type and what applying it does (``tests/store`` checks that none is missing).
APPLY: dict[type, Callable[[_Applying, Any], None]] = {
    History: _history, RunStart: _run_start, ConfigUpdate: _config, SummaryUpdate: _summary,
    DefineMetric: _define_metric, Console: _console, Exit: _exit, Preempting: _preempting, Skipped: _skipped,
}


def apply_records(conn: sa.Connection, run_pk: int, writer: str, records: Sequence[AnyRecord],
                  stats: dict[str, KeyStats], others_last: dict[str, tuple[int, Any]], now: float) -> None:
    """Apply ``records`` (all past this writer's mark) and move the mark to the last one.

    ``stats`` / ``others_last`` summarize the History records among them (computed vectorized by
    the ingest path), so no point is handled one by one here.
    """
    a = _Applying(conn, run_pk, writer, now)
    touch(conn, a.run, run_pk, now)
    for rec in records:
        APPLY[type(rec)](a, rec)
    run, pinned = a.run, a.pinned
    merged = _merge_metric_summaries(conn, run_pk, stats)
    summarize(run["summary"], pinned, run["metric_modes"], merged, others_last)
    if stats:
        advance_step(run["summary"], pinned, max(s.last_step for s in stats.values()))
    if a.console_rows:
        conn.execute(console_lines.insert(), a.console_rows)
    if a.history_seqs:
        a.event("metrics_applied", {"writer": writer, "first_seq": a.history_seqs[0], "last_seq": a.history_seqs[-1],
                                    "rows": len(a.history_seqs), "points": sum(s.count for s in stats.values()),
                                    "keys": sorted(set(stats) | set(others_last))})

    run["pinned"] = sorted(pinned)
    run["updated_at"] = now
    conn.execute(runs.update().where(runs.c.pk == run_pk).values(
        {k: v for k, v in run.items() if k not in ("pk", "entity", "project", "run_id", "created_at")}))
    stmt = insert_for(conn, run_writers).values(run_pk=run_pk, writer=writer, applied_seq=records[-1].seq)
    conn.execute(stmt.on_conflict_do_update(index_elements=[run_writers.c.run_pk, run_writers.c.writer],
                                            set_={"applied_seq": stmt.excluded.applied_seq}))
