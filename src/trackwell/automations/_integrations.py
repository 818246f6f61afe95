"""Where actions send: a Slack-compatible incoming webhook, or a generic (signed) webhook.
Secrets (a webhook's signing secret and access token, a Slack URL's path) are kept by the
server and never returned; a signing secret the server generates is shown once, on creation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, HttpUrl, field_validator

from trackwell.automations._base import Model

_NAME_PATTERN = r"^[-\w]+([ ]+[-\w]+)*$"  # W&B's rule for integration names


def _url(value: Any) -> Any:
    if isinstance(value, str):
        HttpUrl(value)  # raises with pydantic's message for a URL that is not http(s)
    return value


class Integration(Model):
    id: int | None = None
    name: str | None = Field(default=None, max_length=64, pattern=_NAME_PATTERN)
    entity: str | None = None


class SlackIntegration(Integration):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's /slack)."""

    kind: Literal["slack"] = "slack"
    webhook_url: str | None = Field(default=None, max_length=2048)  # None on a saved one: a secret the server keeps

    _check = field_validator("webhook_url", mode="before")(lambda cls, v: _url(v))


class WebhookIntegration(Integration):
    """A generic webhook: requests signed per Standard Webhooks with ``secret`` (a ``whsec_``
    secret is made for you when None), ``Authorization: Bearer access_token`` when given."""

    kind: Literal["webhook"] = "webhook"
    url: str = Field(validation_alias=AliasChoices("url", "url_endpoint"), max_length=2048)
    secret: str | None = Field(default=None, min_length=1, max_length=256)
    access_token: str | None = Field(default=None, min_length=1, max_length=4096)

    _check = field_validator("url", mode="before")(lambda cls, v: _url(v))


_ADDRESS = r"^[^@\s<>]+@[^@\s<>]+$"


class EmailIntegration(Integration):
    """Notifications by email through an SMTP server (``password``: kept by the server)."""

    kind: Literal["email"] = "email"
    to: list[Annotated[str, Field(max_length=320, pattern=_ADDRESS)]] = Field(min_length=1, max_length=20)
    from_address: str = Field(max_length=320, pattern=_ADDRESS)
    smtp_host: str = Field(min_length=1, max_length=253)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=1024)
    starttls: bool = False


def integration_from_wire(data: dict[str, Any]) -> Integration:
    if data.get("kind") == "email":
        config = data.get("config") or {}
        return EmailIntegration.model_construct(**{k: v for k, v in {**data, **config}.items()
                                                   if k in EmailIntegration.model_fields})
    cls = SlackIntegration if data.get("kind") == "slack" else WebhookIntegration
    return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields or k == "url_endpoint"})
