"""``watch()``: its checks and histogram shape without torch; the hooks themselves with torch
(skipped when torch is absent, as in CI; the corpus' watch_model.py runs it against a server)."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_helpers import history

from trackwell.sdk import UsageError
from trackwell.sdk.watch import histogram


def test_histogram_has_wandbs_shape() -> None:
    shaped = histogram([1, 0, 3, 2], -1.0, 1.0)
    assert shaped == {"_type": "histogram", "values": [1, 0, 3, 2], "bins": [-1.0, -0.5, 0.0, 0.5, 1.0]}


@pytest.mark.parametrize(("model", "kwargs", "message"), [
    (object(), {}, "watch.. takes PyTorch modules .torch.nn.Module., not object"),
    ([object()], {"log": "weights"}, "log must be one of gradients, parameters, all or None"),
    (object(), {"log_freq": 0}, "log_freq must be a positive integer"),
])
def test_watch_refuses_what_it_cannot_watch(offline_run: Any, model: Any, kwargs: dict[str, Any], message: str) -> None:
    run = offline_run()
    with pytest.raises(UsageError, match=message):
        run.watch(model, **kwargs)


def test_watch_and_unwatch_a_torch_model(offline_run: Any) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (CI has none); the checks above run without it")
    model = torch.nn.Linear(3, 2)
    run = offline_run()
    run.watch(model, log="parameters", log_freq=2)
    for step in range(4):
        model(torch.ones(1, 3))
        run.log({"step_loss": float(step)})
    run.unwatch()
    model(torch.ones(1, 3))
    run.log({"step_loss": 9.0})
    run.finish()
    rows = [r.data for r in history(run.journal_path())]
    watched = [i for i, row in enumerate(rows) if "parameters/weight" in row]
    assert watched == [1, 3]  # every 2nd forward pass; none after unwatch
    weight = rows[1]["parameters/weight"]
    assert weight["_type"] == "histogram" and sum(weight["values"]) == 6 and len(weight["bins"]) == 65
