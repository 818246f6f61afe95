"""Automations and integrations: create, list, change, delete; the delivery log and redelivery.
Bodies are validated with the client's own types (``trackwell.automations``), so the server
accepts exactly what the SDK can express; the scope is the path's project."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from trackwell.automations import _signing
from trackwell.automations._actions import action_from_wire
from trackwell.automations._automation import MAX_COOLDOWN
from trackwell.automations._events import event_from_wire
from trackwell.automations._integrations import (
    EmailIntegration,
    SlackIntegration,
    WebhookIntegration,
)
from trackwell.automations._semantics import check_filter
from trackwell.server.automations import check_url, shown_url
from trackwell.server.automations._send import Refused
from trackwell.server.services._errors import Conflict, NotFound, RunNotFound
from trackwell.store.metadata import AccountStore, MetadataStore
from trackwell.store.metadata._automations import AutomationNameTaken

_FIELDS = ("name", "description", "enabled", "cooldown", "event", "action")
NOTIFY_KINDS = ("slack", "email")  # where a notification may go


class InvalidAutomation(ValueError):
    """A body the types refuse (HTTP 422), with pydantic's account of each problem."""


def _problems(exc: ValidationError, what: str) -> InvalidAutomation:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors()[:10]]
    return InvalidAutomation(f"invalid {what}: " + "; ".join(parts))


class AutomationsService:
    def __init__(self, store: MetadataStore, accounts: AccountStore, allow_private: bool = False) -> None:
        self._store, self._accounts, self._allow_private = store, accounts, allow_private

    def _entity_exists(self, entity: str) -> None:
        if self._accounts.entity_kind(entity) is None:
            raise NotFound(f"no user or team named {entity!r}")

    # -- integrations ------------------------------------------------------------------------

    def create_integration(self, entity: str, body: dict[str, Any], actor: str | None) -> dict[str, Any]:
        """The saved integration (secrets never shown, except a signing secret the server made,
        once, as ``secret``). Same name and URL as an existing one: that one, unchanged."""
        self._entity_exists(entity)
        kind = body.get("kind", "webhook")
        if kind == "email":
            return self._create_email(entity, body, actor)
        fields = {k: v for k, v in body.items() if k not in ("kind", "id", "entity")}
        try:
            model = (SlackIntegration if kind == "slack" else WebhookIntegration).model_validate(fields)
        except ValidationError as exc:
            raise _problems(exc, "integration") from None
        if kind not in ("slack", "webhook"):
            raise InvalidAutomation(f"integration kind must be 'slack' or 'webhook', not {kind!r}")
        url = model.webhook_url if isinstance(model, SlackIntegration) else model.url
        if not url:
            raise InvalidAutomation("a Slack integration needs webhook_url")
        try:
            check_url(url, self._allow_private)
        except Refused as exc:
            raise InvalidAutomation(str(exc)) from None
        host = re.sub(r"[^\w-]+", "-", urlsplit(url).hostname or "")[:40]
        name = model.name or f"{kind}-{host}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
        made_secret = None
        secret = getattr(model, "secret", None)
        if kind == "webhook" and secret is None:
            secret = made_secret = _signing.new_secret()
        try:
            row, created = self._store.create_integration(entity, name[:64], kind, url, secret,
                                                          getattr(model, "access_token", None), actor, time.time())
        except AutomationNameTaken as exc:
            raise Conflict(str(exc)) from None
        shown = self._shown_integration(row)
        if created and made_secret is not None:
            shown["secret"] = made_secret  # shown once: the receiver verifies signatures with it
        shown["created"] = created
        return shown

    def _create_email(self, entity: str, body: dict[str, Any], actor: str | None) -> dict[str, Any]:
        try:
            model = EmailIntegration.model_validate({k: v for k, v in body.items() if k not in ("kind", "id", "entity")})
        except ValidationError as exc:
            raise _problems(exc, "integration") from None
        url = f"smtp://{model.smtp_host}:{model.smtp_port}"
        try:
            check_url(url.replace("smtp://", "http://", 1), self._allow_private)
        except Refused as exc:
            raise InvalidAutomation(str(exc).replace("webhooks", "notifications")) from None
        host = re.sub(r"[^\w-]+", "-", model.smtp_host)[:40]
        name = model.name or f"email-{host}-{hashlib.sha256(','.join(model.to).encode()).hexdigest()[:8]}"
        config = {"to": model.to, "from_address": model.from_address, "username": model.username,
                  "starttls": model.starttls}
        try:
            row, created = self._store.create_integration(entity, name[:64], "email", url, model.password, None,
                                                          actor, time.time(), config)
        except AutomationNameTaken as exc:
            raise Conflict(str(exc)) from None
        return {**self._shown_integration(row), "created": created}

    @staticmethod
    def _shown_integration(row: dict[str, Any]) -> dict[str, Any]:
        shown = {"id": row["id"], "entity": row["entity"], "name": row["name"], "kind": row["kind"],
                 "url": shown_url(row), "created_by": row["created_by"], "created_at": row["created_at"]}
        if row["kind"] == "email":
            shown["config"] = row["config"]
        return shown

    def integrations(self, entity: str) -> list[dict[str, Any]]:
        return [self._shown_integration(r) for r in self._store.integrations(entity)]

    def delete_integration(self, entity: str, integration_id: int) -> dict[str, Any]:
        row = self._store.integration(integration_id)
        if row is None or row["entity"] != entity:
            raise NotFound(f"no integration {integration_id} in {entity}")
        users = [n for n in self._store.automations_using(integration_id)]
        if users:
            raise Conflict(f"integration {integration_id} is used by automations {', '.join(sorted(users))}; "
                           "change or delete them first")
        self._store.delete_integration(integration_id)
        return {"deleted": integration_id}

    # -- automations -------------------------------------------------------------------------

    def _validated(self, entity: str, project: str, body: dict[str, Any]) -> dict[str, Any]:
        """The stored columns of ``body``'s fields (each optional here; create checks presence)."""
        unknown = set(body) - set(_FIELDS)
        if unknown:
            raise InvalidAutomation(f"unknown fields {sorted(unknown)}; an automation has {', '.join(_FIELDS)}")
        values: dict[str, Any] = {}
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not 0 < len(name) <= 255:
                raise InvalidAutomation("name must be a string of 1 to 255 characters")
            values["name"] = name
        if "description" in body:
            if body["description"] is not None and not isinstance(body["description"], str):
                raise InvalidAutomation("description must be a string or null")
            values["description"] = body["description"]
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                raise InvalidAutomation("enabled must be true or false")
            values["enabled"] = body["enabled"]
        if "cooldown" in body:
            c = body["cooldown"]
            if c is not None and (isinstance(c, bool) or not isinstance(c, int | float) or not 0 <= c <= MAX_COOLDOWN):
                raise InvalidAutomation(f"cooldown must be seconds between 0 and {MAX_COOLDOWN}, or null")
            values["cooldown"] = c
        if "event" in body:
            values.update(self._event(entity, project, body["event"]))
        if "action" in body:
            values["action"] = self._action(entity, body["action"])
        return values

    def _event(self, entity: str, project: str, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise InvalidAutomation("event must be an object {type, scope?, filter}")
        scope = dict(raw.get("scope") or {}) if isinstance(raw.get("scope") or {}, dict) else None
        if scope is None:
            raise InvalidAutomation("event.scope must be an object")
        if scope.get("entity") not in (None, entity) or scope.get("project") not in (None, project):
            raise InvalidAutomation(f"event.scope names {scope.get('entity')}/{scope.get('project')}, but this is "
                                    f"{entity}/{project}: create the automation under its own project's path")
        scope.update(entity=entity, project=project)
        try:
            event = event_from_wire({**raw, "scope": scope})
        except ValidationError as exc:
            raise _problems(exc, "event") from None
        except (TypeError, KeyError) as exc:
            raise InvalidAutomation(f"invalid event: {exc}") from None
        wire = event.to_wire()
        flt = wire["filter"]
        try:
            check_filter(flt.get("run") if event.event_type.startswith("RUN_") else flt)
        except ValueError as exc:
            raise InvalidAutomation(f"invalid event filter: {exc}") from None
        return {"event_type": event.event_type, "event": wire}

    def _action(self, entity: str, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise InvalidAutomation("action must be an object {type, ...}")
        try:
            action = action_from_wire(raw)
        except ValidationError as exc:
            raise _problems(exc, "action") from None
        wire: dict[str, Any] = action.to_wire()
        integration_id = wire.get("integration_id")
        if wire["type"] == "GENERIC_WEBHOOK" and integration_id is None:
            raise InvalidAutomation("a webhook action needs integration_id: create a webhook integration first")
        if integration_id is not None:
            row = self._store.integration(integration_id)
            want = ("webhook",) if wire["type"] == "GENERIC_WEBHOOK" else NOTIFY_KINDS
            if row is None or row["entity"] != entity or row["kind"] not in want:
                raise InvalidAutomation(f"no {' or '.join(want)} integration {integration_id} in {entity}; list "
                                        f"them with GET /api/v1/integrations/{entity}")
        elif wire["type"] == "NOTIFICATION" and not any(
                i["kind"] in NOTIFY_KINDS for i in self._store.integrations(entity)):
            raise InvalidAutomation(f"{entity} has no Slack or email integration for a notification without "
                                    "one; create one (SlackIntegration, EmailIntegration) or name integration_id")
        return wire

    @staticmethod
    def _shown(row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in ("id", "entity", "project", "name", "description", "enabled", "cooldown",
                                    "event", "action", "created_by", "created_at", "updated_at")}

    def create(self, entity: str, project: str, body: dict[str, Any], actor: str | None) -> dict[str, Any]:
        self._entity_exists(entity)
        missing = [f for f in ("name", "event", "action") if body.get(f) is None]
        if missing:
            raise InvalidAutomation(f"an automation needs {', '.join(missing)}")
        values = {"description": None, "enabled": True, "cooldown": None, **self._validated(entity, project, body)}
        now = time.time()
        try:
            row = self._store.create_automation({**values, "entity": entity, "project": project,
                                                 "created_by": actor, "created_at": now, "updated_at": now})
        except AutomationNameTaken as exc:
            raise Conflict(str(exc)) from None
        return self._shown(row)

    def automations(self, entity: str, project: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        return [self._shown(r) for r in self._store.automations(entity, project, name)]

    def _one(self, entity: str, project: str, name: str) -> dict[str, Any]:
        found = self._store.automations(entity, project, name)
        if not found:
            raise NotFound(f"no automation named {name!r} in {entity}/{project}; list them with "
                           f"GET /api/v1/automations/{entity}/{project}")
        return found[0]

    def get(self, entity: str, project: str, name: str) -> dict[str, Any]:
        return self._shown(self._one(entity, project, name))

    def update(self, entity: str, project: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        row = self._one(entity, project, name)
        values = self._validated(entity, project, body)
        try:
            return self._shown(self._store.update_automation(row["id"], {**values, "updated_at": time.time()}))
        except AutomationNameTaken as exc:
            raise Conflict(str(exc)) from None

    def delete(self, entity: str, project: str, name: str) -> dict[str, Any]:
        row = self._one(entity, project, name)
        self._store.delete_automation(row["id"])
        return {"deleted": row["id"]}

    def deliveries(self, entity: str, project: str, name: str, limit: int, before: float | None) -> list[dict[str, Any]]:
        return self._store.deliveries(self._one(entity, project, name)["id"], limit, before)

    def redeliver(self, entity: str, project: str, name: str, delivery_id: str) -> dict[str, Any]:
        row = self._one(entity, project, name)
        if not self._store.redeliver(row["id"], delivery_id, time.time()):
            raise NotFound(f"automation {name!r} has no delivery {delivery_id!r}")
        return {"redelivering": delivery_id}

    # -- run.alert -----------------------------------------------------------------------------

    def alert(self, entity: str, project: str, run_id: str, body: dict[str, Any], actor: str | None) -> dict[str, Any]:
        """A run's alert (W&B's ``run.alert``): an outbox event the project's ``run-alerts-<project>``
        automation (made with the first alert) turns into a notification; ``{"sent": false}`` when
        the run sent one with the same title within ``wait_duration`` seconds (default 60)."""
        title, text = body.get("title"), body.get("text", "")
        level = str(body.get("level") or "INFO").upper()
        wait = body.get("wait_duration", 60.0)
        if not isinstance(title, str) or not 0 < len(title) < 64:
            raise InvalidAutomation("title must be a string of 1 to 63 characters")
        if not isinstance(text, str) or len(text) > 10_000:
            raise InvalidAutomation("text must be a string of at most 10,000 characters")
        if level not in ("INFO", "WARN", "ERROR"):
            raise InvalidAutomation(f"level must be INFO, WARN or ERROR, not {body.get('level')!r}")
        if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_COOLDOWN:
            raise InvalidAutomation(f"wait_duration must be seconds between 0 and {MAX_COOLDOWN}")
        run_pk = self._store.run_pk(entity, project, run_id)
        if run_pk is None:
            raise RunNotFound(entity, project, run_id)
        self._alerts_automation(entity, project, actor)
        return {"sent": self._store.add_alert(run_pk, title, text, level, float(wait), actor, time.time())}

    def _alerts_automation(self, entity: str, project: str, actor: str | None) -> None:
        name = f"run-alerts-{project}"
        if self._store.automations(entity, project, name):
            return
        now = time.time()
        event = {"type": "RUN_ALERT", "scope": {"scope_type": "PROJECT", "entity": entity, "project": project},
                 "filter": {}}
        action = {"type": "NOTIFICATION", "integration_id": None, "title": "", "message": "", "severity": "INFO"}
        try:
            self._store.create_automation({
                "entity": entity, "project": project, "name": name, "enabled": True, "cooldown": 0.0,
                "description": "run.alert() of the project's runs, to the entity's default channel",
                "event_type": "RUN_ALERT", "event": event, "action": action, "created_by": actor,
                "created_at": now, "updated_at": now})
        except AutomationNameTaken:
            pass  # made meanwhile by another alert
