"""Applying upload batches exactly once across the metric store and the metadata database.

Order per batch: validate, then the metric store (points + its writer mark, one transaction),
then the metadata database (everything else + its writer mark, one transaction). Each store
skips records at or below its own mark, so a crash between the two commits is healed by the
client resending the batch. Benchmarks can drive ``Ingestor.apply`` directly, without HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trackwell.schema import (
    SUMMARY_MODES,
    AnyRecord,
    Batch,
    Console,
    DefineMetric,
    History,
    RunStart,
    decode_batch,
)
from trackwell.store import Stores, open_stores
from trackwell.store.metadata import KeyStats
from trackwell.store.metrics import PointBatch

_NUMBER_TYPES = {float, int}


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
        if isinstance(rec, Console) and len(rec.stream) > 16:
            raise InvalidBatch(f"records[{i}] (seq {rec.seq}) has console stream {rec.stream[:40]!r}; "
                               "use 'stdout' or 'stderr'")


class Ingestor:
    """Applies batches for (entity, project, run_id) to both stores exactly once."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.metadata = stores.metadata
        self.metrics = stores.metrics
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def open(cls, db_url: str, metrics_path: str | Path) -> Ingestor:
        """Open both stores (migrating the database)."""
        return cls(open_stores(db_url, metrics_path))

    def close(self) -> None:
        self.stores.close()

    def _lock(self, path: tuple[str, str, str]) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(path, threading.Lock())

    def apply(self, entity: str, project: str, run_id: str, batch: Batch) -> int:
        """Apply ``batch``; returns the writer's applied seq (the client's ack).

        Raises ``InvalidBatch``, ``SequenceGap`` or ``ConcurrentIngest``.
        """
        validate(batch, entity, project, run_id)
        # One batch per run at a time in this process: both marks are read, then moved.
        with self._lock((entity, project, run_id)):
            return self._apply(entity, project, run_id, batch)

    def apply_bytes(self, entity: str, project: str, run_id: str, body: bytes) -> int:
        """Decode a msgpack ``Batch`` and apply it: the HTTP path minus HTTP."""
        try:
            batch = decode_batch(body)
        except Exception as exc:  # msgspec raises several types; all mean "not a valid batch"
            raise InvalidBatch(str(exc)) from exc
        return self.apply(entity, project, run_id, batch)

    def _apply(self, entity: str, project: str, run_id: str, batch: Batch) -> int:
        writer, records = batch.writer, batch.records
        pk = self.metadata.run_pk(entity, project, run_id)
        if not records:
            return 0 if pk is None else self._applied(pk, writer)
        first, last = records[0].seq, records[-1].seq
        if pk is None:
            if first > 1:
                raise SequenceGap(0, first, writer)
            start = records[0]
            pk = self.metadata.ensure_run(entity, project, run_id,
                                          **({"name": start.name} if isinstance(start, RunStart) and start.name else {}))
        sql_mark = self.metadata.writer_mark(pk, writer)
        metric_mark = self.metrics.applied(pk, writer)
        # Normally metric_mark >= sql_mark (the metric store commits first); the lower one is
        # what both stores have, so that is where a gap is measured from.
        applied = min(sql_mark, metric_mark)
        if first > applied + 1:
            raise SequenceGap(applied, first, writer)
        if last <= applied:
            return applied
        pending_sql = records[max(sql_mark + 1 - first, 0):]
        points_sql = build_points(pending_sql) if pending_sql else PointBatch.empty()
        if last > metric_mark:
            points = points_sql if metric_mark == sql_mark else build_points(records[metric_mark + 1 - first:])
            if not self.metrics.append(pk, writer, last, points, metric_mark):
                raise ConcurrentIngest(f"points of writer {writer} were applied concurrently; retry the batch")
        if pending_sql:
            stats, others_last = batch_stats(points_sql)
            if not self.metadata.apply(pk, writer, pending_sql, stats, others_last, sql_mark):
                raise ConcurrentIngest(f"records of writer {writer} were applied concurrently; retry the batch")
        return last

    def _applied(self, pk: int, writer: str) -> int:
        return min(self.metadata.writer_mark(pk, writer), self.metrics.applied(pk, writer))
