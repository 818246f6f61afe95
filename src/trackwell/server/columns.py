"""A ``HistoryBlock``'s columns as numpy arrays: what validation checks and the projector stores.

``columns()`` does no per-row Python work: a block of 4,096 rows becomes steps and timestamps in
a few vectorized operations, and ``per_value()`` each value's row and key (what projection needs;
validation does not). It raises ``BlockError`` (a ValueError) naming the first inconsistency,
for a block no SDK would make.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trackwell.schema import HistoryBlock

MAX_BLOCK_ROWS = 65536
_INT64 = (-(2**63), 2**63 - 1)


class BlockError(ValueError):
    """The block's columns do not fit together."""


@dataclass
class BlockColumns:
    """Per row: ``steps``, ``ts``, ``runtime``, ``widths`` (values in the row). Per value
    (``per_value()``, only what projection needs): ``rows``, ``keys`` (into block.keys), ``values``
    (0.0 where ``block.others`` has the value)."""

    block: HistoryBlock
    steps: npt.NDArray[np.int64]
    ts: npt.NDArray[np.float64]
    runtime: npt.NDArray[np.float64]
    widths: npt.NDArray[np.int64]
    shape_of: npt.NDArray[np.int64] | None  # None: every row has shape 0
    flat_shapes: npt.NDArray[np.int64]
    widths_of: npt.NDArray[np.int64]

    def per_value(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        n, total = self.block.n, len(self.block.values) // 8
        rows = np.repeat(np.arange(n, dtype=np.int64), self.widths)
        if self.shape_of is None:
            keys = np.tile(self.flat_shapes.astype(np.int32), n)
        else:
            shape_start = np.concatenate(([0], np.cumsum(self.widths_of)[:-1]))
            row_start = np.concatenate(([0], np.cumsum(self.widths)[:-1]))
            within = np.arange(total, dtype=np.int64) - np.repeat(row_start, self.widths)
            keys = self.flat_shapes[np.repeat(shape_start[self.shape_of], self.widths) + within].astype(np.int32)
        values = np.frombuffer(self.block.values, dtype="<f8").astype(np.float64, copy=False)
        return rows, keys, values


def _ints(values: list[int], what: str) -> npt.NDArray[np.int64]:
    try:
        return np.array(values, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        raise BlockError(f"{what} holds a value that is not a 64-bit integer") from None


def columns(block: HistoryBlock) -> BlockColumns:
    n = block.n
    if not 1 <= n <= MAX_BLOCK_ROWS:
        raise BlockError(f"n is {n}; a block holds 1 to {MAX_BLOCK_ROWS} rows")
    if len(block.dts) != n - 1:
        raise BlockError(f"dts has {len(block.dts)} deltas for {n} rows; it needs n - 1")
    if block.dsteps and len(block.dsteps) != n - 1:
        raise BlockError(f"dsteps has {len(block.dsteps)} deltas for {n} rows; it needs n - 1 (or none)")
    if block.shape_of and len(block.shape_of) != n:
        raise BlockError(f"shape_of has {len(block.shape_of)} entries for {n} rows; it needs n (or none)")
    if not block.shapes:
        raise BlockError("shapes is empty; every row needs a shape (an empty one for a row of no keys)")
    with np.errstate(over="ignore"):
        bits = np.empty(n, dtype=np.int64)
        bits[0] = np.float64(block.ts).view(np.int64)
        bits[1:] = _ints(block.dts, "dts")
        ts = np.cumsum(bits).view(np.float64)  # wraps on garbage: then not finite, or out of order
        if block.dsteps:
            steps = np.empty(n, dtype=np.int64)
            steps[0] = block.step
            steps[1:] = _ints(block.dsteps, "dsteps")
            steps = np.cumsum(steps)
        else:
            steps = np.arange(block.step, block.step + n, dtype=np.int64)
    runtime = ts - block.base
    nkeys = len(block.keys)
    widths_of = np.array([len(s) for s in block.shapes], dtype=np.int64)
    flat_shapes = _ints([k for s in block.shapes for k in s], "shapes")
    if flat_shapes.size and (flat_shapes.min() < 0 or flat_shapes.max() >= nkeys):
        raise BlockError(f"shapes name a key index outside 0..{nkeys - 1}")
    shape_of: npt.NDArray[np.int64] | None = None
    if block.shape_of:
        shape_of = _ints(block.shape_of, "shape_of")
        if shape_of.min() < 0 or shape_of.max() >= len(block.shapes):
            raise BlockError(f"shape_of names a shape outside 0..{len(block.shapes) - 1}")
        widths = widths_of[shape_of]
    else:
        widths = np.full(n, widths_of[0], dtype=np.int64)
    total = int(widths.sum())
    if len(block.values) != 8 * total:
        raise BlockError(f"values holds {len(block.values)} bytes; the rows' shapes need {8 * total}")
    for where, name in ((block.ints, "ints"), (list(block.others), "others")):
        if where and (min(where) < 0 or max(where) >= total):
            raise BlockError(f"{name} names a value position outside 0..{total - 1}")
    return BlockColumns(block, steps, ts, runtime, widths, shape_of, flat_shapes, widths_of)
