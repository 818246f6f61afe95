"""The events an automation triggers on. ``event.then(action)`` (or ``event >> action``) makes
the ``NewAutomation`` to save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field, field_validator, model_validator

from trackwell.automations._base import EventType, Model
from trackwell.automations._filters import (
    MetricChangeFilter,
    MetricFilterBase,
    MetricZScoreFilter,
    MongoFilter,
    RunMetricFilter,
    RunStateFilter,
)
from trackwell.automations._scopes import ArtifactCollectionScope, ProjectScope, parse_scope

if TYPE_CHECKING:
    from trackwell.automations._automation import NewAutomation


class _Event(Model):
    scope: ProjectScope | ArtifactCollectionScope
    _scope = field_validator("scope", mode="before")(lambda cls, v: parse_scope(v))

    @property
    def event_type(self) -> str:
        raise NotImplementedError

    def then(self, action: Any) -> NewAutomation:
        from trackwell.automations._automation import NewAutomation

        return NewAutomation(event=cast(Any, self), action=action)

    def __rshift__(self, action: Any) -> NewAutomation:
        return self.then(action)

    def filter_wire(self) -> Any:
        raise NotImplementedError

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.event_type, "scope": self.scope.to_wire(), "filter": self.filter_wire()}


class OnRunMetric(_Event):
    """A run logs a metric that satisfies the filter (threshold, change or z-score); each run is
    evaluated on its own values. Project scope."""

    filter: RunMetricFilter

    @field_validator("filter", mode="before")
    @classmethod
    def _nest(cls, value: Any) -> Any:
        if isinstance(value, MetricFilterBase):
            return RunMetricFilter(metric=cast(Any, value))
        if isinstance(value, dict) and "metric" in value:
            return RunMetricFilter.model_validate(value)
        return value

    @property
    def event_type(self) -> str:
        metric = self.filter.metric
        if isinstance(metric, MetricChangeFilter):
            return EventType.RUN_METRIC_CHANGE
        if isinstance(metric, MetricZScoreFilter):
            return EventType.RUN_METRIC_ZSCORE
        return EventType.RUN_METRIC

    def filter_wire(self) -> Any:
        return self.filter.to_wire()


class OnRunState(_Event):
    """A run enters one of the filter's states."""

    filter: RunStateFilter

    @field_validator("filter", mode="before")
    @classmethod
    def _wire(cls, value: Any) -> Any:
        if isinstance(value, dict) and "states" in value:
            return RunStateFilter(run=value.get("run") or {}, state=value["states"])
        return value

    @property
    def event_type(self) -> str:
        return EventType.RUN_STATE

    def filter_wire(self) -> Any:
        return self.filter.to_wire()


class OnRunAlert(_Event):
    """A run calls ``run.alert(...)``. Each project gets one, ``alerts/<project>``, with its first
    alert, notifying the entity's default channel; change its action (a webhook) or disable it to
    route or mute the project's alerts."""

    filter: dict[str, Any] = Field(default_factory=dict)

    @property
    def event_type(self) -> str:
        return EventType.RUN_ALERT

    def filter_wire(self) -> Any:
        return self.filter


class _ArtifactEvent(Model):
    """Shared by the artifact events: a Mongo-like filter on ``alias``, ``tag``, ``artifact_name``,
    ``artifact_type`` (``ArtifactEvent.alias.eq("prod")``)."""

    scope: ProjectScope | ArtifactCollectionScope
    filter: dict[str, Any] = Field(default_factory=dict)
    EVENT: ClassVar[str]

    _scope = field_validator("scope", mode="before")(lambda cls, v: parse_scope(v))
    _filter = field_validator("filter", mode="before")(
        lambda cls, v: v.expr if isinstance(v, MongoFilter) else ({} if v is None else v))

    @property
    def event_type(self) -> str:
        return self.EVENT

    then = _Event.then
    __rshift__ = _Event.__rshift__

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.event_type, "scope": self.scope.to_wire(), "filter": self.filter}


class OnCreateArtifact(_ArtifactEvent):
    """A new artifact version in a collection (collection scope only, as W&B)."""

    EVENT: ClassVar[str] = EventType.CREATE_ARTIFACT

    @model_validator(mode="after")
    def _collection_only(self) -> OnCreateArtifact:
        if not isinstance(self.scope, ArtifactCollectionScope):
            raise ValueError("OnCreateArtifact watches one artifact collection: give scope='entity/project/collection'")
        return self


class OnLinkArtifact(_ArtifactEvent):
    EVENT: ClassVar[str] = EventType.LINK_ARTIFACT


class OnUnlinkArtifact(_ArtifactEvent):
    EVENT: ClassVar[str] = EventType.UNLINK_ARTIFACT


class OnAddArtifactAlias(_ArtifactEvent):
    EVENT: ClassVar[str] = EventType.ADD_ARTIFACT_ALIAS


class OnAddArtifactTag(_ArtifactEvent):
    EVENT: ClassVar[str] = EventType.ADD_ARTIFACT_TAG


class OnRemoveArtifactTag(_ArtifactEvent):
    EVENT: ClassVar[str] = EventType.REMOVE_ARTIFACT_TAG


_ARTIFACT_EVENTS = (OnCreateArtifact, OnLinkArtifact, OnUnlinkArtifact, OnAddArtifactAlias, OnAddArtifactTag,
                    OnRemoveArtifactTag)
EVENT_TYPES: dict[str, type[Any]] = {
    EventType.RUN_METRIC: OnRunMetric, EventType.RUN_METRIC_CHANGE: OnRunMetric,
    EventType.RUN_METRIC_ZSCORE: OnRunMetric, EventType.RUN_STATE: OnRunState, EventType.RUN_ALERT: OnRunAlert,
    "LINK_MODEL": OnLinkArtifact,  # W&B's wire name for linking
    **{cls.EVENT: cls for cls in _ARTIFACT_EVENTS},
}


def event_from_wire(data: dict[str, Any]) -> Any:
    kind = data.get("type")
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r}; one of {', '.join(sorted(EVENT_TYPES))}")
    return EVENT_TYPES[kind](scope=data.get("scope"), filter=data.get("filter") or {})
