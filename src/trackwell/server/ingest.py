"""Applying upload batches exactly once across the metric store and the metadata database.

Order per batch: validate, then the metric store (points + its writer mark, one transaction),
then the metadata database (everything else + its writer mark, one transaction). Each store
skips records at or below its own mark, so a crash between the two commits is healed by the
client resending the batch. Benchmarks can drive ``Ingestor.apply`` directly, without HTTP.

An empty batch is a heartbeat. A journal whose ``RunStart`` carries ``resume`` (an offline run,
or one that could not reach the server at init) is resolved when its first batch arrives: the
writer's steps and runtime are offset to continue after the run's history, and the offsets are
stored with the writer's mark in the metric store, so a replay is shifted the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from trackwell.schema import (
    RESUME_MODES,
    SUMMARY_MODES,
    Ack,
    AnyRecord,
    Batch,
    Console,
    DefineMetric,
    Exit,
    History,
    RunStart,
    decode_batch,
)
from trackwell.store import Stores, open_stores
from trackwell.store.metadata import KeyStats
from trackwell.store.metrics import PointBatch

_NUMBER_TYPES = {float, int}
_LOCK_STRIPES = 256


class InvalidBatch(ValueError):
    """The batch cannot be applied as sent (HTTP 422); the message names the problem."""


class SequenceGap(Exception):
    """The batch starts past ``applied_seq + 1`` (HTTP 409): resend from ``applied_seq + 1``."""

    def __init__(self, applied_seq: int, first_seq: int, writer: str) -> None:
        super().__init__(f"writer {writer} has records up to seq {applied_seq} applied, but this batch "
                         f"starts at seq {first_seq}; resend from seq {applied_seq + 1}")
        self.applied_seq = applied_seq


class ConcurrentIngest(RuntimeError):
    """Another process moved a writer mark mid-batch (HTTP 503): retrying is safe."""


class ResumeConflict(Exception):
    """A journal's ``resume=`` cannot be honoured (HTTP 409): the message says what to do."""


def shifted(records: Sequence[AnyRecord], step_offset: int, runtime_offset: float) -> list[AnyRecord]:
    """Records of a resumed offline writer, moved to continue after the run's history."""
    out: list[AnyRecord] = []
    for rec in records:
        if type(rec) is History:
            data = rec.data
            if "_runtime" in data and type(data["_runtime"]) in _NUMBER_TYPES:
                data = {**data, "_runtime": data["_runtime"] + runtime_offset}
            rec = msgspec.structs.replace(rec, step=rec.step + step_offset, runtime=rec.runtime + runtime_offset,
                                          data=data)
        elif type(rec) is Exit:
            rec = msgspec.structs.replace(rec, runtime=rec.runtime + runtime_offset)
        out.append(rec)
    return out


def build_points(records: Sequence[AnyRecord]) -> PointBatch:
    """Columns of every History value in ``records``, in one pass over the records."""
    names: list[str] = []
    values: list[Any] = []
    counts: list[int] = []
    steps: list[int] = []
    for rec in records:
        if type(rec) is History:
            data = rec.data
            names.extend(data)
            values.extend(data.values())
            counts.append(len(data))
            steps.append(rec.step)
    if not names:
        return PointBatch.empty()
    step_col = np.repeat(np.array(steps, dtype=np.int64), counts)
    others: list[tuple[str, int, Any]] = []
    if not set(map(type, values)) <= _NUMBER_TYPES:  # bools, strings, None: the slow path
        numeric = [type(v) in _NUMBER_TYPES for v in values]
        mask = np.array(numeric, dtype=bool)
        others = [(names[i], int(step_col[i]), values[i]) for i in np.flatnonzero(~mask).tolist()]
        names = [n for n, ok in zip(names, numeric, strict=True) if ok]
        values = [v for v, ok in zip(values, numeric, strict=True) if ok]
        step_col = step_col[mask]
    index = {name: i for i, name in enumerate(dict.fromkeys(names))}
    key_idx = np.array(list(map(index.__getitem__, names)), dtype=np.int32)
    return PointBatch(list(index), key_idx, step_col, np.array(values, dtype=np.float64), others)


def batch_stats(points: PointBatch) -> tuple[dict[str, KeyStats], dict[str, tuple[int, Any]]]:
    """Per-key count/sum/min/max/last of the numeric points (vectorized), and each non-numeric
    key's last ``(step, value)``."""
    others_last = {key: (step, value) for key, step, value in points.others}
    if not len(points.values):
        return {}, others_last
    order = np.argsort(points.key_idx, kind="stable")  # stable: "last" stays last
    keys, values, steps = points.key_idx[order], points.values[order], points.steps[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    counts = np.diff(np.r_[starts, len(keys)])
    with np.errstate(invalid="ignore"):
        sums = np.add.reduceat(values, starts)
    columns = zip(keys[starts].tolist(), counts.tolist(), sums.tolist(),
                  np.fmin.reduceat(values, starts).tolist(), np.fmax.reduceat(values, starts).tolist(),
                  values[ends].tolist(), steps[ends].tolist(), strict=True)
    stats = {points.keys[k]: KeyStats(count=c, sum=s, min=lo, max=hi, last=last, last_step=step)
             for k, c, s, lo, hi, last, step in columns}
    return stats, others_last


def validate(batch: Batch, entity: str, project: str, run_id: str) -> None:
    if not batch.writer:
        raise InvalidBatch("batch.writer is empty; every batch names the journal writer that made it")
    records = batch.records
    if not records:
        return
    first = records[0].seq
    if first < 1:
        raise InvalidBatch(f"records[0].seq is {first}; sequence numbers start at 1")
    seqs = [rec.seq for rec in records]
    if seqs != list(range(first, first + len(records))):
        i = next(i for i, seq in enumerate(seqs) if seq != first + i)
        raise InvalidBatch(f"records must be consecutive seqs of writer {batch.writer}: records[{i}].seq "
                           f"is {seqs[i]}, expected {first + i}; split the upload at the gap")
    for i, rec in enumerate(records):
        if type(rec) is History:
            continue
        if isinstance(rec, RunStart) and (rec.entity, rec.project, rec.run_id) != (entity, project, run_id):
            raise InvalidBatch(f"records[{i}] (seq {rec.seq}) starts run {rec.entity}/{rec.project}/{rec.run_id} "
                               f"but the batch was posted to {entity}/{project}/{run_id}")
        if isinstance(rec, DefineMetric) and rec.summary is not None and rec.summary not in SUMMARY_MODES:
            raise InvalidBatch(f"records[{i}] (seq {rec.seq}) defines metric {rec.name!r} with summary "
                               f"{rec.summary!r}; use one of {', '.join(SUMMARY_MODES)}")
        if isinstance(rec, RunStart) and rec.resume is not None and rec.resume not in RESUME_MODES:
            raise InvalidBatch(f"records[{i}] (seq {rec.seq}) has resume={rec.resume!r}; use one of "
                               f"{', '.join(RESUME_MODES)}")
        if isinstance(rec, Console) and len(rec.stream) > 16:
            raise InvalidBatch(f"records[{i}] (seq {rec.seq}) has console stream {rec.stream[:40]!r}; "
                               "use 'stdout' or 'stderr'")


class Ingestor:
    """Applies batches for (entity, project, run_id) to both stores exactly once."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.metadata = stores.metadata
        self.metrics = stores.metrics
        # Striped per-run locks: bounded memory however many runs a server sees; two runs that
        # share a stripe only take turns (a lock is never held while taking another).
        self._stripes = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    @classmethod
    def open(cls, db_url: str, metrics_path: str | Path) -> Ingestor:
        """Open both stores (migrating the database)."""
        return cls(open_stores(db_url, metrics_path))

    def close(self) -> None:
        self.stores.close()

    def apply(self, entity: str, project: str, run_id: str, batch: Batch) -> int:
        """Apply ``batch``; returns the writer's applied seq (the client's ack).

        Raises ``InvalidBatch``, ``SequenceGap`` or ``ConcurrentIngest``.
        """
        validate(batch, entity, project, run_id)
        # One batch per run at a time in this process: both marks are read, then moved.
        with self.lock(entity, project, run_id):
            return self._apply(entity, project, run_id, batch)[0]

    def receive(self, entity: str, project: str, run_id: str, batch: Batch) -> Ack:
        """``apply`` plus the run's state after it (a client learns it was stopped this way)."""
        validate(batch, entity, project, run_id)
        with self.lock(entity, project, run_id):
            applied, pk, state = self._apply(entity, project, run_id, batch)
            if state is None and pk is not None:
                state = self.metadata.run_state(pk)
        return Ack(writer=batch.writer, applied_seq=applied, state=state)

    def lock(self, entity: str, project: str, run_id: str) -> threading.Lock:
        """Held while a batch, a rewind or a fork changes the run's history."""
        return self._stripes[hash((entity, project, run_id)) % _LOCK_STRIPES]

    def apply_bytes(self, entity: str, project: str, run_id: str, body: bytes) -> int:
        """Decode a msgpack ``Batch`` and apply it: the HTTP path minus HTTP."""
        try:
            batch = decode_batch(body)
        except Exception as exc:  # msgspec raises several types; all mean "not a valid batch"
            raise InvalidBatch(str(exc)) from exc
        return self.apply(entity, project, run_id, batch)

    def _apply(self, entity: str, project: str, run_id: str, batch: Batch) -> tuple[int, int | None, str | None]:
        """(applied seq, run pk, run state if already known)."""
        writer, records = batch.writer, batch.records
        pk = self.metadata.run_pk(entity, project, run_id)
        if not records:  # a heartbeat
            if pk is None:
                return 0, None, None
            return self._applied(pk, writer), pk, self.metadata.heartbeat(pk)
        first, last = records[0].seq, records[-1].seq
        start = records[0] if first == 1 and isinstance(records[0], RunStart) else None
        resume = start.resume if start is not None else None
        if pk is None:
            if first > 1:
                raise SequenceGap(0, first, writer)
            if resume == "must":
                raise ResumeConflict(f"run {entity}/{project}/{run_id} does not exist, so this journal (started "
                                     "with resume='must') cannot resume it; start it again with resume='allow' "
                                     "to create the run")
            pk = self.metadata.ensure_run(entity, project, run_id,
                                          **({"name": start.name} if start is not None and start.name else {}))
        sql_mark = self.metadata.writer_mark(pk, writer)
        mark = self.metrics.mark(pk, writer)
        metric_mark = mark.applied
        offsets = (mark.step_offset, mark.runtime_offset)
        if resume is not None and metric_mark == 0:
            offsets = self._resolve_resume(entity, project, run_id, pk, writer, resume)
        if offsets != (0, 0.0):
            records = shifted(records, *offsets)
        # Normally metric_mark >= sql_mark (the metric store commits first); the lower one is
        # what both stores have, so that is where a gap is measured from.
        applied = min(sql_mark, metric_mark)
        if first > applied + 1:
            raise SequenceGap(applied, first, writer)
        if last <= applied:
            return applied, pk, None
        pending_sql = records[max(sql_mark + 1 - first, 0):]
        points_sql = build_points(pending_sql) if pending_sql else PointBatch.empty()
        if last > metric_mark:
            points = points_sql if metric_mark == sql_mark else build_points(records[metric_mark + 1 - first:])
            if not self.metrics.append(pk, writer, last, points, metric_mark, offsets):
                raise ConcurrentIngest(f"points of writer {writer} were applied concurrently; retry the batch")
        if pending_sql:
            stats, others_last = batch_stats(points_sql)
            if not self.metadata.apply(pk, writer, pending_sql, stats, others_last, sql_mark):
                raise ConcurrentIngest(f"records of writer {writer} were applied concurrently; retry the batch")
        return last, pk, None

    def _resolve_resume(self, entity: str, project: str, run_id: str, pk: int, writer: str,
                        resume: str) -> tuple[int, float]:
        """Check ``resume`` against what the run holds; the writer's (step, runtime) offsets."""
        from trackwell.server.lifecycle import continuation

        run = self.metadata.get_run(entity, project, run_id)
        assert run is not None
        exists = bool(set(self.metrics.writers(pk)) - {writer}) or run["forked_from"] is not None
        path = f"{entity}/{project}/{run_id}"
        if resume == "must" and not exists:
            raise ResumeConflict(f"run {path} has no history from an earlier process, so this journal (started "
                                 "with resume='must') cannot resume it; start it again with resume='allow'")
        if resume == "never" and exists:
            raise ResumeConflict(f"run {path} already exists and this journal was started with resume='never'; "
                                 "start it again with resume='allow' to continue that run, or with another id")
        if not exists:
            return 0, 0.0
        _, next_step = continuation(self, pk, entity, project, run_id)
        return next_step, float(run["runtime"] or 0.0)

    def _applied(self, pk: int, writer: str) -> int:
        return min(self.metadata.writer_mark(pk, writer), self.metrics.applied(pk, writer))
