"""Where actions send: a Slack-compatible incoming webhook, or a generic (signed) webhook.
Secrets (a webhook's signing secret and access token, a Slack URL's path) are kept by the
server and never returned; a signing secret the server generates is shown once, on creation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator

from trackwell.automations._base import Model

_NAME_PATTERN = r"^[-\w]+([ ]+[-\w]+)*$"  # W&B's rule for integration names


def _url(value: Any) -> Any:
    if isinstance(value, str):
        HttpUrl(value)  # raises with pydantic's message for a URL that is not http(s)
    return value


class Integration(Model):
    id: int | None = None
    name: str | None = Field(None, max_length=64, pattern=_NAME_PATTERN)
    entity: str | None = None


class SlackIntegration(Integration):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's /slack)."""

    kind: Literal["slack"] = "slack"
    webhook_url: str | None = Field(None, max_length=2048)  # None on a saved one: a secret the server keeps

    _check = field_validator("webhook_url", mode="before")(lambda cls, v: _url(v))


class WebhookIntegration(Integration):
    """A generic webhook: requests signed per Standard Webhooks with ``secret`` (a ``whsec_``
    secret is made for you when None), ``Authorization: Bearer access_token`` when given."""

    kind: Literal["webhook"] = "webhook"
    url: str = Field(alias="url_endpoint", max_length=2048)
    secret: str | None = Field(None, min_length=1, max_length=256)
    access_token: str | None = Field(None, min_length=1, max_length=4096)

    _check = field_validator("url", mode="before")(lambda cls, v: _url(v))


def integration_from_wire(data: dict[str, Any]) -> Integration:
    cls = SlackIntegration if data.get("kind") == "slack" else WebhookIntegration
    return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields or k == "url_endpoint"})
