"""Applying journal records to the metadata database, inside the caller's transaction: each
record type has its handler (``APPLY``); the batch's history statistics are folded in once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    FileSaved,
    History,
    HistoryBlock,
    Preempting,
    RunMetadata,
    RunStart,
    RunUpdate,
    Skipped,
    SummaryUpdate,
    SystemSample,
)
from trackwell.schema.blocks import last_runtime
from trackwell.schema.summary import STEP, KeyStats, history_summary, summary_mode
from trackwell.store.metadata import _summaries
from trackwell.store.metadata._blobs import put_run_files
from trackwell.store.metadata._lifecycle import (
    CRASHED,
    KILLED,
    PREEMPTING,
    RUNNING,
    exit_state,
    for_update,
)
from trackwell.store.metadata._summaries import ABSENT, KEEP, insert_for
from trackwell.store.metadata._system import add_system
from trackwell.store.metadata._tables import (
    console_lines,
    events,
    run_writers,
    runs,
)

__all__ = ["APPLY", "add_event", "apply_records", "insert_for", "mark_preempting", "touch"]


def add_event(conn: sa.Connection, kind: str, run_pk: int | None, payload: dict[str, Any], now: float,
              actor: str | None = None) -> None:
    conn.execute(events.insert().values(kind=kind, run_pk=run_pk, payload=payload, created_at=now, actor=actor))


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
        self.before: dict[str, Any] = dict(row)
        self.run: dict[str, Any] = dict(row)
        for key in ("config", "metric_modes"):
            self.run[key] = dict(self.run[key])
        self.pins: dict[str, Any] = {}  # summary keys the user set (or deleted: ABSENT) in this batch
        self.console_rows: list[dict[str, Any]] = []
        self.files: dict[str, tuple[str, int]] = {}  # FileSaved: name -> (digest, size), the last wins
        self.history: list[int] = []  # [first seq, last seq, rows] of the batch's history rows
        self.system_rows: list[dict[str, Any]] = []  # SystemSample rows
        self.metadata: dict[str, Any] = {}  # RunMetadata keys, merged over the stored ones

    def event(self, kind: str, payload: dict[str, Any]) -> None:
        add_event(self.conn, kind, self.run_pk, payload, self.now)


    def rows(self, first: int, last: int, runtime: float) -> None:
        """History rows ``first``..``last`` (seqs) were applied; the last one at ``runtime``."""
        if self.history:
            self.history[1:] = [last, self.history[2] + last - first + 1]
        else:
            self.history = [first, last, last - first + 1]
        self.run["runtime"] = max(self.run["runtime"] or 0.0, runtime)


# History values are in the batch statistics (``stats``); the records only move the runtime.
def _history(a: _Applying, rec: History) -> None:
    a.rows(rec.seq, rec.seq, rec.runtime)


def _history_block(a: _Applying, rec: HistoryBlock) -> None:
    a.rows(rec.seq, rec.last_seq, last_runtime(rec))


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
    elif run["state"] in (KILLED, PREEMPTING):  # stopped, or marked preempting out of band, after init()
        return                                   # claimed the run and before these first records came
    run["state"], run["exit_code"] = RUNNING, None


def _config(a: _Applying, rec: ConfigUpdate) -> None:
    a.run["config"].update(rec.data)


def _summary(a: _Applying, rec: SummaryUpdate) -> None:
    a.pins.update(rec.update)
    for key in rec.remove:  # stays pinned: later history must not bring it back
        a.pins[key] = ABSENT


def _define_metric(a: _Applying, rec: DefineMetric) -> None:
    """``metric_modes`` holds each name's whole definition (what charts need too: step_metric)."""
    definition = {k: getattr(rec, k) for k in METRIC_FIELDS if getattr(rec, k) is not None}
    old = a.run["metric_modes"].get(rec.name)
    if rec.overwrite is False and isinstance(old, dict):
        definition = {**old, **definition}
    a.run["metric_modes"][rec.name] = definition


def _run_update(a: _Applying, rec: RunUpdate) -> None:
    for field in ("name", "group", "job_type", "notes", "tags"):
        value = getattr(rec, field)
        if value is not None:
            a.run[field] = list(value) if field == "tags" else value


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


def _file(a: _Applying, rec: FileSaved) -> None:
    a.files[rec.name] = (rec.digest, rec.size)


def _system_sample(a: _Applying, rec: SystemSample) -> None:
    a.system_rows.append({"run_pk": a.run_pk, "ts": rec.ts, "runtime": rec.runtime, "data": rec.data})
    a.run["runtime"] = max(a.run["runtime"] or 0.0, rec.runtime)


def _run_metadata(a: _Applying, rec: RunMetadata) -> None:
    a.metadata.update(rec.data)


def _skipped(_a: _Applying, _rec: Skipped) -> None:
    """A placeholder for a record the client set aside: it only keeps the seqs gap-free."""


# Every record type and what applying it does (``tests/store`` checks that none is missing).
APPLY: dict[type, Callable[[_Applying, Any], None]] = {
    History: _history, HistoryBlock: _history_block, RunStart: _run_start, ConfigUpdate: _config, SummaryUpdate: _summary,
    DefineMetric: _define_metric, Console: _console, Exit: _exit, Preempting: _preempting, Skipped: _skipped,
    FileSaved: _file, SystemSample: _system_sample, RunMetadata: _run_metadata,
    RunUpdate: _run_update,
}
METRIC_FIELDS = ("summary", "step_metric", "step_sync", "hidden", "goal")


def _summarize(a: _Applying, stats: dict[str, KeyStats], others_last: dict[str, tuple[int, Any]]) -> int:
    """Write the summary rows of the keys this batch touched (no other key is read or written);
    returns how many keys the run did not have before."""
    keys = dict.fromkeys([*stats, *others_last, *a.pins, *([STEP] if stats else [])])
    if not keys:
        return 0
    found = _summaries.stored(a.conn, a.run_pk, keys)
    modes, pins = a.run["metric_modes"], a.pins
    rows: dict[str, tuple[Any, bool, KeyStats | None]] = {}
    for key in keys:
        old = found.get(key)
        pinned, merged = (False, None) if old is None else (old.pinned, old.stats)
        new = stats.get(key)
        if new is not None:
            if merged is not None and modes and "first" in summary_mode(modes, key):
                merged.first = _stored_first(a, key)  # not among the stored statistics
            merged = new if merged is None else merged.merged(new)
        value: Any = KEEP
        if key in pins:
            value, pinned = pins[key], True
        elif not pinned and (new is not None or key in others_last):
            if merged is not None and not modes and key not in others_last:
                value = merged.last  # the common case (a wide batch has 10,000): a number, mode last
            else:
                found_value, history_value = history_summary(merged, others_last.get(key), summary_mode(modes, key))
                if found_value:
                    value = history_value
        rows[key] = (value, pinned, merged)
    if stats and not rows[STEP][1]:  # _step is not pinned
        value, _, step_stats = rows[STEP]
        rows[STEP] = (_advanced_step(a, max(s.last_step for s in stats.values()), value), False, step_stats)
    _summaries.write(a.conn, a.run_pk, rows)
    return sum(1 for key in keys if key not in found and key != STEP)


def _stored_first(a: _Applying, key: str) -> float | None:
    stored = _summaries.value_of(a.conn, a.run_pk, key)
    return stored.get("first") if isinstance(stored, dict) else None


def _advanced_step(a: _Applying, last_step: int, value: Any) -> Any:
    """``_step``: the highest step logged (W&B's summary carries it too); ``value``: what the
    batch made of it so far (``KEEP``: the stored one)."""
    current = _summaries.value_of(a.conn, a.run_pk, STEP) if value is KEEP else value
    return max(last_step, current if isinstance(current, int | float) and not isinstance(current, bool) else last_step)


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
    new_keys = _summarize(a, stats, others_last)
    if a.console_rows:
        conn.execute(console_lines.insert(), a.console_rows)
    put_run_files(conn, run_pk, a.files, now)
    add_system(conn, run_pk, a.system_rows, a.metadata, now)
    if a.history:  # compact: counts, never the keys (a run may have 10,000)
        first, last, rows = a.history
        a.event("metrics_applied", {"writer": writer, "first_seq": first, "last_seq": last, "rows": rows,
                                    "points": sum(s.count for s in stats.values()),
                                    "keys": len(stats.keys() | others_last.keys()), "new_keys": new_keys})
    run = a.run
    run["updated_at"] = now
    changed = {k: v for k, v in run.items() if v != a.before[k]}
    conn.execute(runs.update().where(runs.c.pk == run_pk).values(changed))
    stmt = insert_for(conn, run_writers).values(run_pk=run_pk, writer=writer, applied_seq=records[-1].seq)
    conn.execute(stmt.on_conflict_do_update(index_elements=[run_writers.c.run_pk, run_writers.c.writer],
                                            set_={"applied_seq": stmt.excluded.applied_seq}))
