"""The fluent DSL: ``RunEvent.metric("loss").mean(5) > 0.1``, ``RunEvent.state == "failed"``,
``ArtifactEvent.alias.eq("prod")``, combined with ``&``."""

from __future__ import annotations

from typing import Any

from trackwell.automations._filters import (
    FilterableField,
    MetricChangeFilter,
    MetricThresholdFilter,
    MetricZScoreFilter,
    RunStateFilter,
)


class _Compare:
    """A metric (or its aggregate) compared with a number: a threshold filter."""

    _name: str
    _agg: str | None = None
    _window: int = 1

    def _threshold(self, cmp: str, value: float) -> MetricThresholdFilter:
        return MetricThresholdFilter(name=self._name, agg=self._agg, window=self._window, cmp=cmp, threshold=value)

    def gt(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$gt", value)

    def gte(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$gte", value)

    def lt(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$lt", value)

    def lte(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$lte", value)

    def eq(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$eq", value)

    def ne(self, value: float) -> MetricThresholdFilter:
        return self._threshold("$ne", value)

    __gt__, __ge__, __lt__, __le__ = gt, gte, lt, lte
    __eq__ = eq  # type: ignore[assignment]
    __ne__ = ne  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]

    def _change(self, direction: str, diff: float | None, frac: float | None) -> MetricChangeFilter:
        if (diff is None) == (frac is None):
            raise ValueError("give exactly one of diff= (an absolute change) or frac= (a relative one, 0.1 = 10%)")
        kind, amount = ("ABSOLUTE", diff) if diff is not None else ("RELATIVE", float(frac or 0))
        return MetricChangeFilter(name=self._name, agg=self._agg, window=self._window, change_type=kind,
                                  change_dir=direction, threshold=amount)

    def increases_by(self, *, diff: float | None = None, frac: float | None = None) -> MetricChangeFilter:
        return self._change("INCREASE", diff, frac)

    def decreases_by(self, *, diff: float | None = None, frac: float | None = None) -> MetricChangeFilter:
        return self._change("DECREASE", diff, frac)

    def changes_by(self, *, diff: float | None = None, frac: float | None = None) -> MetricChangeFilter:
        return self._change("ANY", diff, frac)


class MetricAgg(_Compare):
    def __init__(self, name: str, agg: str, window: int) -> None:
        self._name, self._agg, self._window = name, agg, window


class ZScore:
    """``RunEvent.metric("loss").zscore(30) > 3`` (above), ``< -3`` (below), ``abs(...) > 3`` (either)."""

    def __init__(self, name: str, window: int, absolute: bool = False) -> None:
        self._name, self._window, self._absolute = name, window, absolute

    def abs(self) -> ZScore:
        return ZScore(self._name, self._window, True)

    __abs__ = abs

    def _filter(self, threshold: float, direction: str) -> MetricZScoreFilter:
        return MetricZScoreFilter(name=self._name, window=self._window, threshold=threshold, change_dir=direction)

    def __gt__(self, value: float) -> MetricZScoreFilter:
        return self._filter(value, "ANY" if self._absolute else "INCREASE")

    __ge__ = __gt__

    def __lt__(self, value: float) -> MetricZScoreFilter:
        if self._absolute or value >= 0:
            raise ValueError("zscore(...) < t needs a negative t (below the mean by |t| deviations); "
                             "for either side use abs(RunEvent.metric(name).zscore(n)) > t")
        return self._filter(-value, "DECREASE")

    __le__ = __lt__


class MetricVal(_Compare):
    """``RunEvent.metric(name)``: compare it, aggregate it over a window, or watch its changes."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _agg_of(self, agg: str, window: int) -> MetricAgg:
        return MetricAgg(self._name, agg, window)

    def mean(self, window: int) -> MetricAgg:
        return self._agg_of("AVERAGE", window)

    avg = average = mean

    def min(self, window: int) -> MetricAgg:
        return self._agg_of("MIN", window)

    def max(self, window: int) -> MetricAgg:
        return self._agg_of("MAX", window)

    def sum(self, window: int) -> MetricAgg:
        return self._agg_of("SUM", window)

    def zscore(self, window: int = 30) -> ZScore:
        return ZScore(self._name, window)


class _StateField:
    """``RunEvent.state == "finished"``, ``RunEvent.state.in_(["failed", "crashed"])``."""

    def eq(self, state: str) -> RunStateFilter:
        return RunStateFilter(state=[state])

    def in_(self, states: Any) -> RunStateFilter:
        return RunStateFilter(state=list(states))

    __eq__ = eq  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


class RunEvent:
    """Filter builders for run events."""

    name = FilterableField("display_name")
    display_name = name
    tags = FilterableField("tags")
    group = FilterableField("group")
    job_type = FilterableField("job_type")
    user = FilterableField("user")
    state = _StateField()

    @staticmethod
    def metric(name: str) -> MetricVal:
        return MetricVal(name)

    @staticmethod
    def config(path: str) -> FilterableField:
        return FilterableField(f"config.{path}")


class ArtifactEvent:
    """Filter builders for artifact events."""

    alias = FilterableField("alias")
    tag = FilterableField("tag")
    name = FilterableField("artifact_name")
    type = FilterableField("artifact_type")
