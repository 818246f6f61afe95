"""Packing consecutive History rows into ``HistoryBlock`` records, and back.

A block stores what varies per row and nothing else: the value of each key (float64, 8 bytes),
the step (nothing when steps go up by one), the ts as the difference between consecutive rows'
float64 bit patterns (a small int: 1-3 bytes for rows logged microseconds to seconds apart), the
row's key set as an index into the block's shapes (nothing when all rows have the same keys).
``_runtime`` and ``_timestamp`` are derived (ts - base, ts). Pure Python and the standard
library: the SDK packs without numpy; the server reads the columns with numpy (``columns``).

Round trips are exact: a row that would not come back as it went in (a ``_runtime`` that is not
ts - base, say) is left a plain ``History`` record; ints come back as ints, and bools, strings
and None as themselves.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Sequence
from itertools import islice
from operator import sub
from typing import Any

from trackwell.schema.records import AnyRecord, History, HistoryBlock

MAX_ROWS = 4096  # rows per block: a refused block is split by rows, and one block stays ~< 1 MiB
MAX_VALUES = 65536  # values per block (wide rows make shorter blocks)
DERIVED_KEYS = ("_runtime", "_timestamp")  # every row has them: ts - base and ts, never stored
_NUMBERS = {float, int}
_SWAP = sys.byteorder == "big"  # values are little-endian on disk and on the wire
_EXACT_INT = 2**53  # ints past this do not survive a float64: kept in ``others``


class _Shape:
    """One key set: its index in the block and its keys (``_runtime``/``_timestamp`` left out)."""

    __slots__ = ("index", "keys", "width")

    def __init__(self, index: int, names: tuple[str, ...]) -> None:
        self.index = index
        self.keys = [n for n in names if n not in DERIVED_KEYS]
        self.width = len(self.keys)


def pack(records: Sequence[AnyRecord]) -> list[AnyRecord]:
    """``records`` with each run of consecutive History rows replaced by blocks (rows that would
    not round-trip exactly stay as they are)."""
    out: list[AnyRecord] = []
    run: list[History] = []
    for rec in records:
        if type(rec) is History and (not run or rec.seq == run[-1].seq + 1):
            run.append(rec)
            continue
        if run:
            out.extend(_pack_run(run))
            run = []
        if type(rec) is History:
            run.append(rec)
        else:
            out.append(rec)
    if run:
        out.extend(_pack_run(run))
    return out


def _pack_run(rows: list[History]) -> Iterator[AnyRecord]:
    """Blocks of the rows that round-trip (runtime = ts - base with one base, the derived keys
    equal to ts and runtime), the others as they are."""
    i, n = 0, len(rows)
    while i < n:
        base = rows[i].ts - rows[i].runtime
        j = i
        while j < n and _round_trips(rows[j], base):
            j += 1
        if j == i:
            yield rows[i]  # this row cannot be a block row: it stays a History record
            i += 1
            continue
        yield from pack_rows(rows[i].seq, base, [(r.data, r.step, r.ts) for r in rows[i:j]])
        i = j


def _round_trips(rec: History, base: float) -> bool:
    ts, runtime, data = rec.ts, rec.runtime, rec.data
    return (type(ts) is float and type(runtime) is float and type(rec.step) is int and ts - base == runtime
            and data.get("_timestamp") == ts and data.get("_runtime") == runtime)


Row = tuple[dict[str, Any], int, float]  # (the user's keys and values, step, ts)


def pack_rows(first_seq: int, base: float, rows: Sequence[Row]) -> list[HistoryBlock]:
    """Blocks of rows the SDK's writer built: seqs from ``first_seq``, each row's runtime
    ts - ``base`` by construction (``_runtime``/``_timestamp`` in its data are dropped: they are
    derived). Nothing is checked per row (the writer made them so): the cheapest way into the
    journal."""
    out: list[HistoryBlock] = []
    i, n = 0, len(rows)
    while i < n:
        shapes: dict[tuple[str, ...], _Shape] = {}
        shape_of: list[int] = []
        flat: list[Any] = []
        tss: list[float] = []
        steps: list[int] = []
        last_names: tuple[str, ...] | None = None
        index, whole = 0, True
        end = min(n, i + MAX_ROWS)
        for data, step, ts in rows[i:end]:
            names = tuple(data)
            if names != last_names:
                shape = shapes.get(names)
                if shape is None:
                    shape = shapes[names] = _Shape(len(shapes), names)
                last_names, index, whole = names, shape.index, shape.width == len(names)
            if whole:
                flat.extend(data.values())
            else:  # a row that names _runtime/_timestamp itself: they are ts - base and ts
                flat.extend(v for k, v in data.items() if k not in DERIVED_KEYS)
            shape_of.append(index)
            tss.append(ts)
            steps.append(step)
            if len(flat) >= MAX_VALUES:
                break
        out.append(_block(first_seq + i, base, shapes, shape_of, flat, tss, steps))
        i += len(tss)
    return out


def _block(seq: int, base: float, shapes: dict[tuple[str, ...], _Shape], shape_of: list[int],
           flat: list[Any], tss: list[float], steps: list[int]) -> HistoryBlock:
    n = len(tss)
    key_index: dict[str, int] = {}
    shape_lists = [[key_index.setdefault(k, len(key_index)) for k in s.keys] for s in shapes.values()]
    ints: list[int] = []
    others: dict[int, Any] = {}
    kinds = set(map(type, flat))
    if kinds <= _NUMBERS and (int not in kinds or _small_ints(flat)):
        values = array("d", flat)  # one C loop
        if int in kinds:
            ints = [i for i, v in enumerate(flat) if type(v) is int]
    else:
        values = array("d", bytes(8 * len(flat)))
        for i, v in enumerate(flat):
            t = type(v)
            if t is float:
                values[i] = v
            elif t is int and -_EXACT_INT <= v <= _EXACT_INT:
                values[i] = v
                ints.append(i)
            else:
                others[i] = v
    if _SWAP:
        values.byteswap()
    bits = array("q", array("d", tss).tobytes())
    dsteps = list(map(sub, islice(steps, 1, None), steps))
    return HistoryBlock(
        seq=seq, ts=tss[0], n=n, step=steps[0], base=base,
        dts=list(map(sub, islice(bits, 1, None), bits)),
        dsteps=[] if steps[-1] - steps[0] == n - 1 and all(d == 1 for d in dsteps) else dsteps,
        keys=list(key_index), shapes=shape_lists,
        shape_of=shape_of if len(shapes) > 1 else [],
        values=values.tobytes(), ints=ints, others=others)


def _small_ints(flat: list[Any]) -> bool:
    return all(-_EXACT_INT <= v <= _EXACT_INT for v in flat if type(v) is int)


# -- reading blocks back -------------------------------------------------------------------

def timestamps(block: HistoryBlock) -> list[float]:
    """Each row's ts, exactly as logged."""
    bits = [0] * block.n
    acc = bits[0] = _bits_of(block.ts)
    for i, d in enumerate(block.dts, 1):
        acc += d
        bits[i] = acc
    return array("d", array("q", bits).tobytes()).tolist()


def last_ts(block: HistoryBlock) -> float:
    """The last row's ts (one sum, no per-row work)."""
    return _float_of(_bits_of(block.ts) + sum(block.dts))


def last_runtime(block: HistoryBlock) -> float:
    return last_ts(block) - block.base


def last_step(block: HistoryBlock) -> int:
    return block.step + (sum(block.dsteps) if block.dsteps else block.n - 1)


def steps(block: HistoryBlock) -> list[int]:
    if not block.dsteps:
        return list(range(block.step, block.step + block.n))
    out = [block.step]
    for d in block.dsteps:
        out.append(out[-1] + d)
    return out


def values(block: HistoryBlock) -> list[Any]:
    """Every row's values in order (as ``shape_of`` and ``shapes`` lay them out), typed as logged."""
    arr = array("d", block.values)
    if _SWAP:
        arr.byteswap()
    out: list[Any] = arr.tolist()
    for i in block.ints:
        out[i] = int(out[i])
    for i, v in block.others.items():
        out[i] = v
    return out


def unpack(block: HistoryBlock) -> list[History]:
    """The block's rows as History records, equal to what was packed."""
    flat = values(block)
    names = [[block.keys[k] for k in shape] for shape in block.shapes]
    shape_of = block.shape_of or [0] * block.n
    rows: list[History] = []
    pos = 0
    base = block.base
    for i, (ts, step) in enumerate(zip(timestamps(block), steps(block), strict=True)):
        keys = names[shape_of[i]]
        data = dict(zip(keys, flat[pos:pos + len(keys)], strict=True))
        pos += len(keys)
        runtime = ts - base
        data["_runtime"] = runtime
        data["_timestamp"] = ts
        rows.append(History(seq=block.seq + i, ts=ts, step=step, runtime=runtime, data=data))
    return rows


def expand(records: Sequence[AnyRecord]) -> list[AnyRecord]:
    """``records`` with every block unpacked into its History rows."""
    if not any(type(r) is HistoryBlock for r in records):
        return list(records)
    out: list[AnyRecord] = []
    for rec in records:
        if type(rec) is HistoryBlock:
            out.extend(unpack(rec))
        else:
            out.append(rec)
    return out


def since(records: Sequence[AnyRecord], seq: int) -> list[AnyRecord]:
    """The records (consecutive seqs, in order) from ``seq`` on; a block that starts before
    ``seq`` and ends at or after it is cut (its later rows repacked)."""
    if not records or seq <= records[0].seq:
        return list(records)
    out: list[AnyRecord] = []
    for i, rec in enumerate(records):
        if rec.seq >= seq:
            out.extend(records[i:])
            break
        if type(rec) is HistoryBlock and rec.last_seq >= seq:
            out.extend(pack(unpack(rec)[seq - rec.seq:]))
    return out


def _bits_of(x: float) -> int:
    return int(array("q", array("d", [x]).tobytes())[0])


def _float_of(bits: int) -> float:
    return float(array("d", array("q", [bits]).tobytes())[0])
