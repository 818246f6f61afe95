"""What an automation does: send a notification, send a webhook, or nothing (for testing)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from trackwell.automations._base import ActionType, Model, Severity
from trackwell.automations._integrations import (
    EmailIntegration,
    Integration,
    SlackIntegration,
    WebhookIntegration,
)


def _integration_id(value: Any) -> Any:
    return value.id if isinstance(value, Integration) else value


class SendNotification(Model):
    """A notification (title, message, severity) to a Slack-compatible or email integration; with
    no integration, to the scope's entity's oldest one (its default channel)."""

    action_type: Literal["NOTIFICATION"] = "NOTIFICATION"
    integration_id: int | None = None
    # an unsaved integration (the seed's ``SlackIntegration(webhook_url=...)``), saved with the automation
    integration: SlackIntegration | EmailIntegration | None = Field(default=None, exclude=True)
    title: str = Field(default="", max_length=1024)
    message: str = Field(default="", validation_alias=AliasChoices("message", "text"), max_length=10_000)
    severity: Severity = Field(default="INFO", validation_alias=AliasChoices("severity", "level"))

    _id = field_validator("integration_id", mode="before")(lambda cls, v: _integration_id(v))

    @classmethod
    def from_integration(cls, integration: SlackIntegration | EmailIntegration, *, title: str = "", text: str = "",
                         level: str = "INFO") -> SendNotification:
        if integration.id is not None:
            return cls(integration_id=integration.id, title=title, message=text, severity=level)
        return cls(integration=integration, title=title, message=text, severity=level)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.action_type, "integration_id": self.integration_id, "title": self.title,
                "message": self.message, "severity": self.severity}


class SendWebhook(Model):
    """A POST of ``payload`` (JSON, with ``${...}`` variables filled in) to a webhook integration."""

    action_type: Literal["GENERIC_WEBHOOK"] = "GENERIC_WEBHOOK"
    integration_id: int | None = None
    integration: WebhookIntegration | None = Field(default=None, exclude=True)
    payload: dict[str, Any] | None = Field(default=None, validation_alias=AliasChoices("payload", "request_payload"))

    _id = field_validator("integration_id", mode="before")(lambda cls, v: _integration_id(v))

    @classmethod
    def from_integration(cls, integration: WebhookIntegration, *, payload: dict[str, Any] | None = None) -> SendWebhook:
        if integration.id is not None:
            return cls(integration_id=integration.id, payload=payload)
        return cls(integration=integration, payload=payload)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.action_type, "integration_id": self.integration_id, "payload": self.payload}


class DoNothing(Model):
    """No action: the automation's executions are still recorded (to try a filter out)."""

    action_type: Literal["NO_OP"] = "NO_OP"
    no_op: bool = True

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.action_type}


ACTIONS: dict[str, type[Any]] = {ActionType.NOTIFICATION: SendNotification,
                                 ActionType.GENERIC_WEBHOOK: SendWebhook, ActionType.NO_OP: DoNothing}


def action_from_wire(data: dict[str, Any]) -> Any:
    kind = data.get("type")
    if kind not in ACTIONS:
        raise ValueError(f"unknown action type {kind!r}; one of {', '.join(ACTIONS)}")
    return ACTIONS[kind].model_validate({k: v for k, v in data.items() if k != "type"})
