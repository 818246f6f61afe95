"""Applying journal records to the metadata database, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
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


def add_event(conn: sa.Connection, kind: str, run_pk: int, payload: dict[str, Any], now: float) -> None:
    conn.execute(events.insert().values(kind=kind, run_pk=run_pk, payload=payload, created_at=now))


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


def apply_records(conn: sa.Connection, run_pk: int, writer: str, records: Sequence[AnyRecord],
                  stats: dict[str, KeyStats], others_last: dict[str, tuple[int, Any]], now: float) -> None:
    """Apply ``records`` (all past this writer's mark) and move the mark to the last one.

    ``stats`` / ``others_last`` summarize the History records among them (computed vectorized by
    the ingest path), so no point is handled one by one here.
    """
    row = conn.execute(for_update(sa.select(runs).where(runs.c.pk == run_pk), conn)).mappings().one()
    run: dict[str, Any] = dict(row)
    for key in ("config", "summary", "metric_modes"):
        run[key] = dict(run[key])
    pinned = set(run["pinned"])
    console_rows: list[dict[str, Any]] = []
    history_seqs: list[int] = []
    touch(conn, run, run_pk, now)
    for rec in records:
        if isinstance(rec, History):
            history_seqs.append(rec.seq)
            run["runtime"] = max(run["runtime"] or 0.0, rec.runtime)
        elif isinstance(rec, RunStart):
            for field in ("name", "group", "job_type", "notes", "host", "program", "python"):
                value = getattr(rec, field)
                if value is not None:
                    run[field] = value
            if rec.tags:
                run["tags"] = list(rec.tags)
            run["config"].update(rec.config)
            others = conn.execute(sa.select(sa.func.count()).select_from(run_writers).where(
                run_writers.c.run_pk == run_pk, run_writers.c.writer != writer)).scalar_one()
            if others:  # another process wrote this run before: it is being resumed
                add_event(conn, "run_resumed", run_pk, {"writer": writer, "previous_state": run["state"]}, now)
            run["state"], run["exit_code"] = RUNNING, None
        elif isinstance(rec, ConfigUpdate):
            run["config"].update(rec.data)
        elif isinstance(rec, SummaryUpdate):
            run["summary"].update(rec.update)
            pinned.update(rec.update)
            for key in rec.remove:  # stays pinned: later history must not bring it back
                run["summary"].pop(key, None)
                pinned.add(key)
        elif isinstance(rec, DefineMetric):
            if rec.summary is not None:
                run["metric_modes"][rec.name] = rec.summary
        elif isinstance(rec, Console):
            for text in rec.lines:
                console_rows.append({"run_pk": run_pk, "line": run["console_count"], "stream": rec.stream,
                                     "text": text, "ts": rec.ts})
                run["console_count"] += 1
        elif isinstance(rec, Exit):
            run["state"], event = exit_state(run["state"], rec.exit_code)
            run["exit_code"] = rec.exit_code
            run["runtime"] = max(run["runtime"] or 0.0, rec.runtime)
            if event is not None:
                add_event(conn, event, run_pk, {"exit_code": rec.exit_code, "runtime": rec.runtime}, now)
        elif isinstance(rec, Preempting):
            mark_preempting(conn, run, run_pk, now)

    merged = _merge_metric_summaries(conn, run_pk, stats)
    summarize(run["summary"], pinned, run["metric_modes"], merged, others_last)
    if stats:
        advance_step(run["summary"], pinned, max(s.last_step for s in stats.values()))
    if console_rows:
        conn.execute(console_lines.insert(), console_rows)
    if history_seqs:
        add_event(conn, "metrics_applied", run_pk,
                  {"writer": writer, "first_seq": history_seqs[0], "last_seq": history_seqs[-1],
                   "rows": len(history_seqs), "points": sum(s.count for s in stats.values()),
                   "keys": sorted(set(stats) | set(others_last))}, now)

    run["pinned"] = sorted(pinned)
    run["updated_at"] = now
    conn.execute(runs.update().where(runs.c.pk == run_pk).values(
        {k: v for k, v in run.items() if k not in ("pk", "entity", "project", "run_id", "created_at")}))
    stmt = insert_for(conn, run_writers).values(run_pk=run_pk, writer=writer, applied_seq=records[-1].seq)
    conn.execute(stmt.on_conflict_do_update(index_elements=[run_writers.c.run_pk, run_writers.c.writer],
                                            set_={"applied_seq": stmt.excluded.applied_seq}))
