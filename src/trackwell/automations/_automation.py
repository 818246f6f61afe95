"""``NewAutomation`` (an event and an action, not saved yet) and ``Automation`` (saved)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, field_validator

from trackwell.automations._actions import (
    DoNothing,
    SendNotification,
    SendWebhook,
    action_from_wire,
)
from trackwell.automations._base import Model
from trackwell.automations._events import (
    OnAddArtifactAlias,
    OnAddArtifactTag,
    OnCreateArtifact,
    OnLinkArtifact,
    OnRemoveArtifactTag,
    OnRunAlert,
    OnRunMetric,
    OnRunState,
    OnUnlinkArtifact,
    event_from_wire,
)
from trackwell.automations._scopes import ArtifactCollectionScope, ProjectScope

AnyEvent = (OnRunMetric | OnRunState | OnRunAlert | OnCreateArtifact | OnLinkArtifact | OnUnlinkArtifact | OnAddArtifactAlias
            | OnAddArtifactTag | OnRemoveArtifactTag)
AnyAction = SendNotification | SendWebhook | DoNothing
MAX_COOLDOWN = 366 * 86400


def _seconds(value: Any) -> Any:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


class _Fields(Model):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    enabled: bool = True
    event: AnyEvent | None = None
    action: AnyAction | None = None
    # seconds between two firings for the same run (None: the default, 24 h for run metrics as
    # W&B, 0 for state and artifact events); a timedelta is accepted
    cooldown: float | None = Field(default=None, ge=0, le=MAX_COOLDOWN)

    _cooldown = field_validator("cooldown", mode="before")(lambda cls, v: _seconds(v))

    @property
    def scope(self) -> ProjectScope | ArtifactCollectionScope:
        if self.event is None:
            raise ValueError("this automation has no event, so no scope")
        return self.event.scope

    def to_wire(self) -> dict[str, Any]:
        if self.event is None or self.action is None:
            raise ValueError("an automation needs an event and an action: event.then(action)")
        return {"name": self.name, "description": self.description, "enabled": self.enabled,
                "cooldown": self.cooldown, "event": self.event.to_wire(), "action": self.action.to_wire()}


class NewAutomation(_Fields):
    """An automation not saved yet: ``Api().create_automation(new, name=...)`` or ``new.save(name=...)``."""

    def save(self, name: str | None = None, *, description: str | None = None, enabled: bool = True,
             api: Any = None, **kwargs: Any) -> Automation:
        """Save it on the server (``api``: a ``trackwell.Api``; default: ``Api()``)."""
        if api is None:
            from trackwell.api import Api

            api = Api()
        return api.create_automation(self, name=name, description=description, enabled=enabled,  # type: ignore[no-any-return]
                                     **kwargs)


class Automation(_Fields):
    """A saved automation. Change fields (``a.enabled = False``), then ``Api().update_automation(a)``."""

    id: int
    created_at: float | None = None
    updated_at: float | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Automation:
        return cls(id=data["id"], name=data["name"], description=data.get("description"),
                   enabled=data["enabled"], cooldown=data.get("cooldown"), event=event_from_wire(data["event"]),
                   action=action_from_wire(data["action"]), created_at=data.get("created_at"),
                   updated_at=data.get("updated_at"))

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"<Automation {self.id} {self.name!r} ({state}) {self.event.event_type if self.event else '?'}>"
