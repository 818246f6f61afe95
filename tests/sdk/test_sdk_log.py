"""log() semantics, read back from the journal of an offline run (docs/architecture.md "Steps")."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sdk_helpers import history, user_data

from trackwell.sdk import TrackwellWarning, UsageError


def test_steps_auto_increment(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    for i in range(3):
        run.log({"loss": float(i)})
    run.finish()
    rows = history(run.journal_path())
    assert [r.step for r in rows] == [0, 1, 2]
    assert [user_data(r) for r in rows] == [{"loss": 0.0}, {"loss": 1.0}, {"loss": 2.0}]
    for r in rows:
        assert r.data["_runtime"] == r.runtime >= 0
        assert r.data["_timestamp"] == r.ts


def test_commit_false_and_step_merge_into_one_row(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    run.log({"a": 1}, commit=False)
    run.log({"b": 2})  # commits the merged row at step 0
    run.log({"c": 3}, step=5)  # step= without commit: stays open
    run.log({"d": 4}, step=5)
    run.log({"e": 5}, step=7)  # a higher step closes step 5
    run.log({"f": 6}, step=7, commit=True)
    run.log({"g": 7})  # next auto step: 8
    run.log({"h": 8}, commit=False)  # open at 9, committed by finish()
    run.finish()
    rows = history(run.journal_path())
    assert [(r.step, user_data(r)) for r in rows] == [
        (0, {"a": 1, "b": 2}),
        (5, {"c": 3, "d": 4}),
        (7, {"e": 5, "f": 6}),
        (8, {"g": 7}),
        (9, {"h": 8}),
    ]


def test_lower_step_ignored_with_one_warning(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    run.log({"x": 1}, step=10, commit=True)
    with pytest.warns(TrackwellWarning, match=r"log\(step=3\) for keys \['loss'\].*step 11") as rec:
        run.log({"loss": 1.0}, step=3)
        run.log({"loss": 2.0}, step=4)
    assert len([w for w in rec if issubclass(w.category, TrackwellWarning)]) == 1
    run.log({"y": 2})
    run.finish()
    assert [(r.step, user_data(r)) for r in history(run.journal_path())] == [(10, {"x": 1}), (11, {"y": 2})]


def test_flattening_numpy_and_nonfinite(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    run.log({"train": {"loss": np.float32(0.5), "acc": {"top1": np.int64(3)}},
             "flag": np.bool_(True), "nan": float("nan"), "inf": -math.inf, "s": "txt", "none": None,
             "zero_d": np.array(2.5)})
    run.finish()
    (row,) = history(run.journal_path())
    data = user_data(row)
    assert math.isnan(data.pop("nan"))
    assert data == {"train/loss": 0.5, "train/acc/top1": 3, "flag": True, "inf": -math.inf,
                    "s": "txt", "none": None, "zero_d": 2.5}
    assert type(data["train/acc/top1"]) is int and type(data["flag"]) is bool


def test_unsupported_value_warned_once_per_key(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for i in range(3):
            run.log({"ok": i, "bad": object(), "arr": np.zeros(3)})
    msgs = [str(w.message) for w in rec if issubclass(w.category, TrackwellWarning)]
    assert len(msgs) == 1 and "'bad'" in msgs[0]
    run.finish()
    # a short array is kept as a list (issue 11: W&B keeps it; a long one becomes a histogram)
    assert [user_data(r) for r in history(run.journal_path())] == [{"ok": i, "arr": [0.0] * 3} for i in range(3)]


def test_strict_raises(offline_run: Callable[..., Any]) -> None:
    run = offline_run(settings={"strict": True})
    with pytest.raises(TypeError, match="'bad'"):
        run.log({"bad": object()})
    run.log({"ok": 1})
    run.finish()
    assert [user_data(r) for r in history(run.journal_path())] == [{"ok": 1}]


def test_log_copies_the_dict(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    row = {"a": 1.0}
    run.log(row)
    row["a"] = 2.0  # mutating after log() must not change what was logged
    run.finish()
    assert user_data(history(run.journal_path())[0]) == {"a": 1.0}


def test_log_after_finish_and_without_run(offline_run: Callable[..., Any]) -> None:
    import trackwell

    run = offline_run()
    run.finish()
    with pytest.raises(UsageError, match="finished"):
        run.log({"a": 1})
    with pytest.raises(UsageError, match="init"):
        trackwell.log({"a": 1})


def test_bad_step_type(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    with pytest.raises(TypeError, match="integer"):
        run.log({"a": 1}, step=1.5)
    run.log({"a": 1}, step=np.int64(4), commit=True)
    run.finish()
    assert [r.step for r in history(run.journal_path())] == [4]
