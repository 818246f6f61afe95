"""The filter semantics the server evaluates (``trackwell.automations._semantics``), on plain
values: every comparison and aggregation, change windows, z-scores, Mongo-like run filters and
payload templates; and the client types that produce the specs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trackwell.automations import (
    ArtifactEvent,
    MetricChangeFilter,
    MetricThresholdFilter,
    MetricZScoreFilter,
    OnRunMetric,
    RunEvent,
    RunMetricFilter,
    RunStateFilter,
    SendNotification,
)
from trackwell.automations._semantics import matches, metric_fires, needed, render, run_document


def fires(flt: object, values: list[float]) -> float | None:
    return metric_fires(flt.to_wire(), values)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("cmp", "value", "expected"), [
    (">", 0.5, False), (">", 0.6, True), ("$gt", 0.6, True), (">=", 0.5, True), ("$gte", 0.4, False),
    ("<", 0.5, False), ("$lt", 0.4, True), ("<=", 0.5, True), ("$lte", 0.6, False),
    ("==", 0.5, True), ("$eq", 0.6, False), ("!=", 0.5, False), ("$ne", 0.6, True),
])
def test_each_comparison(cmp: str, value: float, expected: bool) -> None:
    flt = MetricThresholdFilter(name="m", cmp=cmp, threshold=0.5)
    assert (fires(flt, [value]) is not None) is expected


@pytest.mark.parametrize(("agg", "expected"), [("min", 1.0), ("max", 4.0), ("mean", 2.5), ("avg", 2.5),
                                               ("AVERAGE", 2.5), ("sum", 10.0)])
def test_each_aggregation_over_the_window(agg: str, expected: float) -> None:
    flt = MetricThresholdFilter(name="m", agg=agg, window=4, cmp=">=", threshold=expected)
    assert fires(flt, [100.0, 1.0, 2.0, 3.0, 4.0]) == expected  # the first value is outside the window
    assert fires(flt.model_copy(update={"threshold": expected + 0.01}), [100.0, 1.0, 2.0, 3.0, 4.0]) is None
    assert fires(flt, [1.0, 2.0, 3.0]) is None  # the window is not full yet


def test_no_aggregation_reads_the_newest_value_only() -> None:
    flt = MetricThresholdFilter(name="m", cmp=">", threshold=1, window=5)
    assert needed(flt.to_wire()) == 1 and fires(flt, [5.0, 0.0]) is None and fires(flt, [0.0, 5.0]) == 5.0


def test_change_windows_absolute_and_relative() -> None:
    up = RunEvent.metric("acc").mean(2).increases_by(diff=0.1)
    assert isinstance(up, MetricChangeFilter) and up.prior_window == 2 and needed(up.to_wire()) == 4
    assert fires(up, [0.5, 0.5, 0.6, 0.61]) == pytest.approx(0.105)
    assert fires(up, [0.5, 0.5, 0.55, 0.6]) is None
    down = RunEvent.metric("acc").decreases_by(frac=0.2)
    assert fires(down, [1.0, 0.8]) == pytest.approx(-0.2) and fires(down, [1.0, 0.81]) is None
    assert fires(down, [0.0, -1.0]) is None  # relative to zero: undefined
    either = MetricChangeFilter(name="x", change_type="abs", change_dir="any", threshold=1, window=1, prior_window=3)
    assert fires(either, [0.0, 0.0, 3.0, 0.0]) == pytest.approx(-1.0)  # prior mean 1.0
    assert fires(either, [5.0, 5.0, 5.0, 5.5]) is None
    with pytest.raises(ValueError, match="exactly one"):
        RunEvent.metric("x").changes_by(diff=1, frac=0.1)
    with pytest.raises(ValidationError, match="greater than 0"):
        MetricChangeFilter(name="x", change_type="REL", change_dir="INC", threshold=0)


def test_zscore_directions() -> None:
    window = [1.0, 2.0, 1.0, 2.0]  # mean 1.5, population deviation 0.5
    above = RunEvent.metric("loss").zscore(4) > 3
    below = RunEvent.metric("loss").zscore(4) < -3
    either = abs(RunEvent.metric("loss").zscore(4)) > 3
    assert (above.change_dir, below.change_dir, either.change_dir) == ("INCREASE", "DECREASE", "ANY")
    assert fires(above, [*window, 3.0]) == pytest.approx(3.0) and fires(above, [*window, 0.0]) is None
    assert fires(below, [*window, 0.0]) == pytest.approx(-3.0) and fires(below, [*window, 3.0]) is None
    assert fires(either, [*window, 0.0]) is not None and fires(either, [*window, 2.9]) is None
    assert fires(MetricZScoreFilter(name="c", window=3), [1.0, 1.0, 1.0, 9.0]) is None  # no spread


def test_run_filters_on_name_tags_group_config_user() -> None:
    run = run_document({"name": "exp-7", "tags": ["a", "b"], "group": "g", "config": {"lr": 0.1, "opt": {"b": 2}},
                        "created_by": "alice", "state": "running"})
    assert matches(run, RunEvent.name.matches_regex("^exp-").expr)
    assert not matches(run, RunEvent.name.contains("base").expr)
    assert matches(run, RunEvent.tags.eq("b").expr) and not matches(run, RunEvent.tags.in_(["c"]).expr)
    assert matches(run, (RunEvent.group == "g").expr) and matches(run, RunEvent.user.eq("alice").expr)
    assert matches(run, (RunEvent.config("lr") < 0.5).expr) and matches(run, RunEvent.config("opt.b").eq(2).expr)
    assert not matches(run, RunEvent.config("missing").exists().expr)
    assert matches(run, (RunEvent.user.eq("bob") | RunEvent.group.eq("g")).expr)
    assert not matches(run, (~RunEvent.group.eq("g")).expr)


def test_combined_filters_and_wire_shapes() -> None:
    both = RunEvent.name.contains("base") & (RunEvent.metric("val/loss").min(10) <= 0.05)
    assert isinstance(both, RunMetricFilter)
    assert both.to_wire() == {"run": {"display_name": {"$contains": "base"}}, "metric": {"threshold": {
        "name": "val/loss", "agg": "MIN", "window": 10, "cmp": "$lte", "threshold": 0.05}}}
    state = RunEvent.state.in_(["finished", "crashed"]) & RunEvent.tags.eq("x")
    assert isinstance(state, RunStateFilter) and state.to_wire() == {"run": {"tags": {"$eq": "x"}},
                                                                      "states": ["CRASHED", "FINISHED"]}
    assert (RunEvent.state == "Killed").state == ["KILLED"]
    assert ArtifactEvent.alias.eq("prod").expr == {"alias": {"$eq": "prod"}}
    assert repr(RunEvent.metric("loss").avg(5) > 0.1) == "AVERAGE(loss) > 0.1"
    # W&B's wire aliases are accepted too
    flt = MetricThresholdFilter(name="loss", agg_op="avg", window_size=5, cmp_op="$gt", threshold=0.1)
    assert OnRunMetric(scope="e/p", filter=flt).event_type == "RUN_METRIC"


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(TypeError):
        SendNotification("t", "m", "WARN")  # type: ignore[misc]  # keyword-only, as W&B
    with pytest.raises(ValidationError, match="severity must be one of INFO, WARN, ERROR, not 'CRITICAL'"):
        SendNotification(title="t", severity="CRITICAL")
    with pytest.raises(ValidationError, match="agg must be one of"):
        MetricThresholdFilter(name="m", agg="median", cmp=">", threshold=1)
    with pytest.raises(ValidationError, match="window"):
        MetricThresholdFilter(name="m", cmp=">", threshold=1, window=0)
    with pytest.raises(ValidationError, match="threshold"):
        MetricThresholdFilter(name="m", cmp=">", threshold="high")
    with pytest.raises(ValidationError, match="state must be one of"):
        RunStateFilter(state=["exploded"])
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        MetricThresholdFilter(name="m", cmp=">", threshold=1, colour="red")
    assert SendNotification(title="t", text="body", level="warning").severity == "WARN"


def test_templates() -> None:
    values = {"run_name": "r1", "metric_value": 0.75, "alias": None}
    assert render({"v": "${metric_value}", "t": "${run_name}: ${metric_value}", "n": [1, "${alias}"],
                   "keep": "${unknown}"}, values) == {"v": 0.75, "t": "r1: 0.75", "n": [1, None], "keep": "${unknown}"}
    assert render("a ${alias} b", values) == "a  b"


def test_first_fire_agrees_with_the_window_definition() -> None:
    """The server's O(1)-per-value scan finds the same first firing as evaluating each window by
    its definition (integer data: sums are exact, so no float tie decides differently)."""
    import random

    from trackwell.automations._semantics import first_fire

    rng = random.Random(14)
    filters = [RunEvent.metric("m") > 5, RunEvent.metric("m") <= -4, RunEvent.metric("m").mean(3) >= 2,
               RunEvent.metric("m").min(4) > 0, RunEvent.metric("m").max(5) < 3, RunEvent.metric("m").sum(6) == 7,
               RunEvent.metric("m").increases_by(diff=6), RunEvent.metric("m").mean(2).decreases_by(frac=0.5),
               RunEvent.metric("m").max(3).changes_by(diff=4),
               MetricChangeFilter(name="m", change_type="ABS", change_dir="INC", threshold=3, window=2,
                                  prior_window=5, agg="sum"),
               abs(RunEvent.metric("m").zscore(5)) > 2, RunEvent.metric("m").zscore(4) < -1.5]
    for _ in range(300):
        values = [float(rng.randint(-6, 9)) for _ in range(rng.randint(0, 40))]
        start = rng.randint(0, 10)
        for flt in filters:
            spec = flt.to_wire()
            expected = next(((i, v) for i in range(start, len(values))
                             if (v := metric_fires(spec, values[:i + 1])) is not None), None)
            assert first_fire(spec, values, start) == expected, (flt, values, start)
