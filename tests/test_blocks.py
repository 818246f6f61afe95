"""History blocks (journal format 3): packing is exact, the server reads the same columns, and a
block no SDK would make is refused with a message instead of stored."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackwell.schema import (
    Batch,
    History,
    HistoryBlock,
    RunStart,
    decode_batch,
    decode_record,
    encode,
    last_seq,
)
from trackwell.schema.blocks import (
    MAX_ROWS,
    expand,
    last_runtime,
    last_step,
    last_ts,
    pack,
    pack_rows,
    since,
    unpack,
)
from trackwell.server.columns import columns
from trackwell.server.points import build_points
from trackwell.server.validation import InvalidRecord, InvalidValue, check_batch
from trackwell.store.metrics import PointBatch

STARTED = 1.7e9 + 0.123456


def row(seq: int, step: int, ts: float, data: dict) -> History:
    runtime = ts - STARTED
    return History(seq=seq, ts=ts, step=step, runtime=runtime, data={**data, "_runtime": runtime, "_timestamp": ts})


def same(a: object, b: object) -> bool:
    """Equal, NaN included, and of the same type (an int stays an int)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def assert_rows_equal(got: list, want: list) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is History
        assert (g.seq, g.step, g.ts, g.runtime) == (w.seq, w.step, w.ts, w.runtime)
        assert list(g.data) == list(w.data) or set(g.data) == set(w.data)
        for k in w.data:
            assert same(g.data[k], w.data[k]), (k, g.data[k], w.data[k])


values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**64 - 1), st.booleans(),
                   st.none(), st.text(max_size=5))
rows_data = st.lists(st.dictionaries(st.sampled_from(["a", "b", "c/d", "e"]), values, max_size=4), min_size=1,
                     max_size=40)


@settings(max_examples=150, deadline=None)
@given(datas=rows_data, gaps=st.lists(st.integers(1, 3), min_size=40, max_size=40),
       waits=st.lists(st.floats(0, 5), min_size=40, max_size=40))
def test_a_packed_journal_unpacks_to_exactly_what_was_logged(datas: list, gaps: list, waits: list) -> None:
    rows, step, ts = [], 0, STARTED + 1
    for i, data in enumerate(datas):
        rows.append(row(i + 2, step, ts, data))
        step += gaps[i]
        ts += waits[i]
    records = [RunStart(seq=1, ts=STARTED, entity="e", project="p", run_id="r"), *rows]
    packed = [decode_record(encode(r)) for r in pack(records)]
    assert sum(last_seq(r) - r.seq + 1 for r in packed) == len(records)
    assert_rows_equal(expand(packed)[1:], rows)
    blocks = [r for r in packed if type(r) is HistoryBlock]
    for block in blocks:
        rows_of = unpack(block)
        assert (last_ts(block), last_runtime(block), last_step(block)) == \
            (rows_of[-1].ts, rows_of[-1].runtime, rows_of[-1].step)
    cut = since(packed, 2 + len(rows) // 2)
    assert_rows_equal(expand(cut), rows[len(rows) // 2:])


def test_rows_that_would_not_round_trip_stay_history_records() -> None:
    odd = History(seq=2, ts=STARTED + 5, step=0, runtime=1.0, data={"a": 1.0})  # no _runtime, runtime != ts - base
    rows = [row(1, 0, STARTED + 1, {"a": 1.0}), odd, row(3, 1, STARTED + 2, {"a": 2.0})]
    packed = pack(rows)
    assert [type(r) for r in packed] == [HistoryBlock, History, HistoryBlock]
    assert expand(packed) == rows


def test_one_float_per_row_costs_about_nine_bytes_and_long_runs_split_into_blocks() -> None:
    rows = [row(i + 1, i, STARTED + 1 + i * 3e-6, {"loss": i * 0.5}) for i in range(2 * MAX_ROWS + 10)]
    packed = pack(rows)
    assert [r.n for r in packed] == [MAX_ROWS, MAX_ROWS, 10]  # type: ignore[union-attr]
    assert sum(len(encode(b)) for b in packed) / len(rows) < 12


def test_the_server_reads_the_columns_the_sdk_packed() -> None:
    rows = [row(1, 0, STARTED + 1, {"a": 1.5, "b": True}), row(2, 3, STARTED + 2, {"c": 2**60, "a": 2.0}),
            row(3, 4, STARTED + 3, {"a": float("nan"), "s": "x"})]
    (block,) = pack(rows)
    cols = columns(block)  # type: ignore[arg-type]
    assert cols.steps.tolist() == [0, 3, 4]
    assert cols.ts.tolist() == [r.ts for r in rows]
    assert cols.runtime.tolist() == [r.runtime for r in rows]
    points = build_points([block])
    got = {(points.keys[k], s): v for k, s, v in zip(points.key_idx.tolist(), points.steps.tolist(),
                                                     points.values.tolist(), strict=True)}
    assert got[("a", 0)] == 1.5 and math.isnan(got[("a", 4)]) and got[("c", 3)] == float(2**60)
    assert got[("_timestamp", 3)] == rows[1].ts and got[("_runtime", 4)] == rows[2].runtime
    assert sorted(points.others) == [("b", 0, True), ("s", 4, "x")]
    # the same points as the rows would have made one by one
    plain = build_points(rows)
    assert _points(plain) == _points(points)


def _points(batch: PointBatch) -> list[tuple[str, int, float]]:
    keys = [batch.keys[k] for k in batch.key_idx.tolist()]
    return sorted(zip(keys, batch.steps.tolist(), np.nan_to_num(batch.values).tolist(), strict=True))


def _batch(block: HistoryBlock) -> Batch:
    return decode_batch(encode(Batch(writer="w", records=[RunStart(seq=1, ts=time.time(), entity="e", project="p",
                                                                   run_id="r"), block])))


@pytest.mark.parametrize(("change", "message"), [
    ({"n": 5}, "dts has 1 deltas for 5 rows"),
    ({"values": b"\x00" * 8}, "values holds 8 bytes"),
    ({"shapes": [[0, 7]]}, "key index outside"),
    ({"shape_of": [0, 3]}, "shape outside"),
    ({"dts": [int(np.float64("inf").view(np.int64) - np.float64(STARTED + 1).view(np.int64))]}, "not finite"),
    ({"keys": ["a", "a"]}, "names a key twice"),
    ({"keys": ["_runtime", "b"]}, "_runtime"),
    ({"step": -1}, "step"),
    ({"others": {99: 1.0}}, "position outside"),
])
def test_a_block_no_sdk_would_make_is_refused_with_its_reason(change: dict, message: str) -> None:
    rows = [row(2, 0, STARTED + 1, {"a": 1.0, "b": 2.0}), row(3, 1, STARTED + 2, {"a": 1.0, "b": 2.0})]
    (block,) = pack(rows)
    fields = {f: getattr(block, f) for f in block.__struct_fields__}
    bad = HistoryBlock(**{**fields, **change})
    with pytest.raises((InvalidRecord, InvalidValue), match=message):
        check_batch(_batch(bad), "e", "p", "r")


def test_seqs_count_every_row_of_a_block() -> None:
    rows = [row(i + 2, i, STARTED + 1 + i, {"a": 1.0}) for i in range(5)]
    (block,) = pack(rows)
    after = History(seq=8, ts=STARTED + 9, step=9, runtime=9.0, data={})
    with pytest.raises(InvalidValue, match="records\\[2\\].seq is 8, expected 7"):
        check_batch(Batch(writer="w", records=[RunStart(seq=1, ts=1.0, entity="e", project="p", run_id="r"), block,
                                                after]), "e", "p", "r")
    assert unpack(block)[-1].seq == 6


def test_rows_the_writer_builds_pack_like_history_records() -> None:
    rows = [({"a": i * 0.5, "b": i} if i % 3 else {"a": True, "s": "x"}, i * 2, STARTED + 1 + i * 1e-3)
            for i in range(3 * MAX_ROWS // 2)]
    rows[5] = ({"_timestamp": 1.0, "a": 2.0}, 10, STARTED + 1 + 5e-3)  # derived: the row's own ts wins
    blocks = pack_rows(7, STARTED, rows)
    want = [row(7 + i, step, ts, {k: v for k, v in data.items() if k != "_timestamp"})
            for i, (data, step, ts) in enumerate(rows)]
    assert [b.n for b in blocks] == [MAX_ROWS, len(rows) - MAX_ROWS]
    assert_rows_equal(expand([decode_record(encode(b)) for b in blocks]), want)
