"""Records survive the wire/disk encoding exactly, including non-finite floats."""

import math

import msgspec
import pytest

from trackwell.schema import Batch, ConfigUpdate, Exit, History, RunStart, decode_batch, encode


def test_batch_round_trip_keeps_nan_and_inf() -> None:
    batch = Batch(writer="w1", records=[
        RunStart(seq=1, ts=1.0, entity="e", project="p", run_id="abc12345", config={"lr": 0.1}),
        History(seq=2, ts=2.0, step=0, runtime=0.5,
                data={"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "s": "text", "b": True, "n": None}),
        ConfigUpdate(seq=3, ts=3.0, data={"nested": {"a": 1}}),
        Exit(seq=4, ts=4.0, exit_code=0, runtime=3.0),
    ])
    decoded = decode_batch(encode(batch))
    history = decoded.records[1]
    assert isinstance(history, History)
    assert math.isnan(history.data["nan"])
    assert history.data["inf"] == math.inf and history.data["ninf"] == -math.inf
    assert history.data["s"] == "text" and history.data["b"] is True and history.data["n"] is None
    assert [type(r).__name__ for r in decoded.records] == ["RunStart", "History", "ConfigUpdate", "Exit"]


def test_unknown_record_kind_is_rejected_with_its_name() -> None:
    bad = msgspec.msgpack.encode({"writer": "w", "records": [{"kind": "bogus", "seq": 1, "ts": 0.0}]})
    with pytest.raises(msgspec.ValidationError, match="bogus"):
        decode_batch(bad)
