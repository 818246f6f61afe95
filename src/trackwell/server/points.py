"""History records as columns of points, and their per-key statistics: what the projector hands
the metric store and the metadata database. Blocks are read by column (``server/columns.py``),
plain History rows in one pass; nothing is done per point in Python."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from trackwell.schema import AnyRecord, History, HistoryBlock
from trackwell.schema.summary import KeyStats
from trackwell.server.columns import columns
from trackwell.store.metrics import PointBatch

_NUMBER_TYPES = {float, int}


def build_points(records: Sequence[AnyRecord]) -> PointBatch:
    """Columns of every History value in ``records`` (blocks by column, rows in one pass), each
    key's points in record order."""
    index: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    others: list[tuple[str, int, Any]] = []
    rows: list[History] = []
    for rec in records:
        if type(rec) is History:
            rows.append(rec)
        elif type(rec) is HistoryBlock:
            if rows:
                parts.append(_rows_part(rows, index, others))
                rows = []
            parts.extend(_block_parts(rec, index, others))
    if rows:
        parts.append(_rows_part(rows, index, others))
    if not parts:
        return PointBatch(list(index), np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64), others)
    key_idx, steps, values = (np.concatenate(col) for col in zip(*parts, strict=True))
    return PointBatch(list(index), key_idx.astype(np.int32, copy=False), steps, values, others)


Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # key index, step, value per point


def _rows_part(rows: list[History], index: dict[str, int], others: list[tuple[str, int, Any]]) -> Part:
    names: list[str] = []
    values: list[Any] = []
    counts: list[int] = []
    steps: list[int] = []
    for rec in rows:
        data = rec.data
        names.extend(data)
        values.extend(data.values())
        counts.append(len(data))
        steps.append(rec.step)
    step_col = np.repeat(np.array(steps, dtype=np.int64), counts)
    if not set(map(type, values)) <= _NUMBER_TYPES:  # bools, strings, None: the slow path
        numeric = [type(v) in _NUMBER_TYPES for v in values]
        mask = np.array(numeric, dtype=bool)
        others.extend((names[i], int(step_col[i]), values[i]) for i in np.flatnonzero(~mask).tolist())
        names = [n for n, ok in zip(names, numeric, strict=True) if ok]
        values = [v for v, ok in zip(values, numeric, strict=True) if ok]
        step_col = step_col[mask]
    for name in dict.fromkeys(names):
        index.setdefault(name, len(index))
    key_idx = np.array(list(map(index.__getitem__, names)), dtype=np.int32)
    return key_idx, step_col, np.array(values, dtype=np.float64)


def _block_parts(block: HistoryBlock, index: dict[str, int], others: list[tuple[str, int, Any]]) -> list[Part]:
    """A block's points: its values, and each row's ``_runtime`` and ``_timestamp``."""
    cols = columns(block)
    rows, keys, values = cols.per_value()
    local = np.array([index.setdefault(k, len(index)) for k in block.keys], dtype=np.int32)
    key_idx, step_col = local[keys], cols.steps[rows]
    if block.others:
        values = values.copy()
        keep = np.ones(len(values), dtype=bool)
        for pos, value in block.others.items():
            if type(value) in _NUMBER_TYPES:  # an int float64 would round: still a number
                values[pos] = float(value)
            else:
                keep[pos] = False
                others.append((block.keys[int(keys[pos])], int(step_col[pos]), value))
        key_idx, step_col, values = key_idx[keep], step_col[keep], values[keep]
    n = block.n
    runtime_key = index.setdefault("_runtime", len(index))
    ts_key = index.setdefault("_timestamp", len(index))
    return [(key_idx, step_col, values),
            (np.full(n, runtime_key, dtype=np.int32), cols.steps, cols.runtime),
            (np.full(n, ts_key, dtype=np.int32), cols.steps, cols.ts)]


def batch_stats(points: PointBatch) -> tuple[dict[str, KeyStats], dict[str, tuple[int, Any]]]:
    """Per-key count/sum/min/max/last of the numeric points (vectorized), and each non-numeric
    key's last ``(step, value)``."""
    others_last = {key: (step, value) for key, step, value in points.others}
    if not len(points.values):
        return {}, others_last
    if len(points.keys) <= _FEW_KEYS:
        return _few_key_stats(points), others_last
    order = np.argsort(points.key_idx, kind="stable")  # stable: "last" stays last
    keys, values, steps = points.key_idx[order], points.values[order], points.steps[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    counts = np.diff(np.r_[starts, len(keys)])
    with np.errstate(invalid="ignore"):
        sums = np.add.reduceat(values, starts)
    columns = zip(keys[starts].tolist(), counts.tolist(), sums.tolist(),
                  np.fmin.reduceat(values, starts).tolist(), np.fmax.reduceat(values, starts).tolist(),
                  values[ends].tolist(), steps[ends].tolist(), values[starts].tolist(), steps[starts].tolist(),
                  strict=True)
    stats = {points.keys[k]: KeyStats(count=c, sum=s, min=lo, max=hi, last=last, last_step=step, first=first,
                                      first_step=first_step)
             for k, c, s, lo, hi, last, step, first, first_step in columns}
    return stats, others_last


_FEW_KEYS = 16  # up to this many keys one masked pass per key beats sorting millions of points


def _few_key_stats(points: PointBatch) -> dict[str, KeyStats]:
    stats: dict[str, KeyStats] = {}
    for k, key in enumerate(points.keys):
        where = np.flatnonzero(points.key_idx == k)
        if not len(where):
            continue
        values = points.values[where]
        last, first = int(where[-1]), int(where[0])
        with np.errstate(invalid="ignore"):
            total = float(values.sum())
        stats[key] = KeyStats(count=len(where), sum=total, min=float(np.fmin.reduce(values)),
                              max=float(np.fmax.reduce(values)), last=float(points.values[last]),
                              last_step=int(points.steps[last]), first=float(points.values[first]),
                              first_step=int(points.steps[first]))
    return stats
