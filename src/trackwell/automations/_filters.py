"""Run-metric, run-state and Mongo-like filters, with W&B's field names and wire aliases."""

from __future__ import annotations

from typing import Any, cast

from pydantic import (
    AliasChoices,
    Field,
    PositiveInt,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from trackwell.automations._base import Agg, ChangeDir, ChangeType, Cmp, Model, RunStateName
from trackwell.automations._semantics import CMP_SYMBOLS

_SYMBOL = {v: k for k, v in CMP_SYMBOLS.items()}
Number = StrictInt | StrictFloat


class MongoFilter:
    """A Mongo-like filter on run or artifact fields (``RunEvent.name.contains("x")``); combine with
    ``&``, ``|`` and ``~``; ``&`` with a metric or state filter narrows that filter to these runs."""

    def __init__(self, expr: dict[str, Any]) -> None:
        self.expr = expr

    def __and__(self, other: Any) -> Any:
        if isinstance(other, MongoFilter):
            return MongoFilter({"$and": [self.expr, other.expr]})
        if isinstance(other, MetricFilterBase):
            return RunMetricFilter(run=self.expr, metric=cast(Any, other))
        if isinstance(other, RunMetricFilter):
            return RunMetricFilter(run=_and(self.expr, other.run), metric=other.metric)
        if isinstance(other, RunStateFilter):
            return RunStateFilter(run=_and(self.expr, other.run), state=other.state)
        return NotImplemented

    __rand__ = __and__

    def __or__(self, other: MongoFilter) -> MongoFilter:
        return MongoFilter({"$or": [self.expr, other.expr]})

    def __invert__(self) -> MongoFilter:
        return MongoFilter({"$nor": [self.expr]})

    def __repr__(self) -> str:
        return f"MongoFilter({self.expr!r})"


def _and(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return b if not a else a if not b else {"$and": [a, b]}


class FilterableField:
    """A field filters may name: ``RunEvent.name``, ``RunEvent.tags``, ``ArtifactEvent.alias``..."""

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name

    def _op(self, op: str, value: Any) -> MongoFilter:
        return MongoFilter({self.server_name: {op: value}})

    def eq(self, value: Any) -> MongoFilter:
        return self._op("$eq", value)

    def ne(self, value: Any) -> MongoFilter:
        return self._op("$ne", value)

    def gt(self, value: Any) -> MongoFilter:
        return self._op("$gt", value)

    def gte(self, value: Any) -> MongoFilter:
        return self._op("$gte", value)

    def lt(self, value: Any) -> MongoFilter:
        return self._op("$lt", value)

    def lte(self, value: Any) -> MongoFilter:
        return self._op("$lte", value)

    def in_(self, values: Any) -> MongoFilter:
        return self._op("$in", list(values))

    def not_in(self, values: Any) -> MongoFilter:
        return self._op("$nin", list(values))

    def matches_regex(self, pattern: str) -> MongoFilter:
        return self._op("$regex", pattern)

    def contains(self, text: str) -> MongoFilter:
        return self._op("$contains", text)

    def exists(self, exists: bool = True) -> MongoFilter:
        return self._op("$exists", exists)

    __eq__ = eq  # type: ignore[assignment]
    __ne__ = ne  # type: ignore[assignment]
    __gt__, __ge__, __lt__, __le__ = gt, gte, lt, lte
    __hash__ = None  # type: ignore[assignment]


class MetricFilterBase(Model):
    name: str = Field(min_length=1, max_length=512)

    def __and__(self, other: Any) -> Any:
        if isinstance(other, MongoFilter):
            return RunMetricFilter(run=other.expr, metric=cast(Any, self))
        return NotImplemented

    __rand__ = __and__


class MetricThresholdFilter(MetricFilterBase):
    """The metric (or its ``agg`` over the last ``window`` values) compared with ``threshold``."""

    agg: Agg | None = Field(default=None, validation_alias=AliasChoices("agg", "agg_op"))
    window: PositiveInt = Field(default=1, validation_alias=AliasChoices("window", "window_size"))
    cmp: Cmp = Field(validation_alias=AliasChoices("cmp", "cmp_op"))
    threshold: Number

    def __repr__(self) -> str:
        subject = f"{self.agg}({self.name})" if self.agg else self.name
        return f"{subject} {_SYMBOL[self.cmp]} {self.threshold}"

    def to_wire(self) -> dict[str, Any]:
        return {"threshold": self.model_dump(mode="json")}


class MetricChangeFilter(MetricFilterBase):
    """The last ``window`` values against the ``prior_window`` before them: changed by at least
    ``threshold`` (``RELATIVE``: a fraction, 0.1 is 10 %) in ``change_dir``."""

    agg: Agg | None = Field(default=None, validation_alias=AliasChoices("agg", "agg_op"))
    window: PositiveInt = Field(default=1, validation_alias=AliasChoices("window", "current_window_size"))
    prior_window: PositiveInt | None = Field(default=None, validation_alias=AliasChoices("prior_window", "prior_window_size"))
    change_type: ChangeType
    change_dir: ChangeDir
    threshold: Number = Field(validation_alias=AliasChoices("threshold", "change_amount"), gt=0)

    @model_validator(mode="after")
    def _prior_defaults_to_window(self) -> MetricChangeFilter:
        if self.prior_window is None:
            object.__setattr__(self, "prior_window", self.window)
        return self

    def __repr__(self) -> str:
        amount = f"{self.threshold:.0%}" if self.change_type == "RELATIVE" else str(self.threshold)
        return f"{self.name} {self.change_dir.lower()} by {amount} ({self.window} vs {self.prior_window})"

    def to_wire(self) -> dict[str, Any]:
        return {"change": self.model_dump(mode="json")}


class MetricZScoreFilter(MetricFilterBase):
    """The newest value's z-score against the ``window`` values before it, past ``threshold``."""

    window: PositiveInt = Field(default=30, validation_alias=AliasChoices("window", "window_size"))
    threshold: Number = Field(default=3.0, gt=0)
    change_dir: ChangeDir = "ANY"

    def to_wire(self) -> dict[str, Any]:
        return {"zscore": self.model_dump(mode="json")}


METRIC_FILTERS: dict[str, type[MetricFilterBase]] = {
    "threshold": MetricThresholdFilter, "change": MetricChangeFilter, "zscore": MetricZScoreFilter}


def metric_filter_from_wire(data: dict[str, Any]) -> MetricFilterBase:
    (kind, spec), = data.items()
    return METRIC_FILTERS[kind].model_validate(spec)


def _run_expr(value: Any) -> Any:
    return value.expr if isinstance(value, MongoFilter) else ({} if value is None else value)


class RunMetricFilter(Model):
    """``OnRunMetric``'s filter: which runs (``run``, Mongo-like) and the metric condition."""

    run: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("run", "run_filter"))
    metric: MetricThresholdFilter | MetricChangeFilter | MetricZScoreFilter = Field(validation_alias=AliasChoices("metric", "run_metric_filter"))

    _run = field_validator("run", mode="before")(lambda cls, v: _run_expr(v))

    @field_validator("metric", mode="before")
    @classmethod
    def _metric(cls, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in METRIC_FILTERS:
            return metric_filter_from_wire(value)
        return value

    def __and__(self, other: Any) -> Any:
        if isinstance(other, MongoFilter):
            return RunMetricFilter(run=_and(self.run, other.expr), metric=self.metric)
        return NotImplemented

    __rand__ = __and__

    def to_wire(self) -> dict[str, Any]:
        return {"run": self.run, "metric": self.metric.to_wire()}


def _states(value: Any) -> Any:
    if isinstance(value, dict) and "states" in value:
        value = value["states"]
    if isinstance(value, str):
        value = [value]
    return value


class RunStateFilter(Model):
    """``OnRunState``'s filter: which runs, and the states entered (finished, failed, crashed,
    preempted, killed; running: created or resumed)."""

    run: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("run", "run_filter"))
    state: list[RunStateName] = Field(validation_alias=AliasChoices("state", "run_state_filter"), min_length=1)

    _run = field_validator("run", mode="before")(lambda cls, v: _run_expr(v))
    _state = field_validator("state", mode="before")(lambda cls, v: _states(v))

    @field_validator("state", mode="after")
    @classmethod
    def _sorted(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    def __and__(self, other: Any) -> Any:
        if isinstance(other, MongoFilter):
            return RunStateFilter(run=_and(self.run, other.expr), state=self.state)
        return NotImplemented

    __rand__ = __and__

    def to_wire(self) -> dict[str, Any]:
        return {"run": self.run, "states": self.state}
