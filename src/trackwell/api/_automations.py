"""``Api``'s automation methods (W&B's names): integrations, automations, their delivery log.

Mixed into ``trackwell.Api``; pydantic (the ``automations`` extra) loads on first use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from trackwell.transport import ServerError

if TYPE_CHECKING:
    from trackwell.automations import Automation, Integration, NewAutomation
    from trackwell.transport import Client

_AUTOMATION_FIELDS = ("name", "description", "enabled", "cooldown", "event", "action", "scope")


def _path(*parts: str) -> str:
    return "/api/v1/" + "/".join(quote(p, safe="") for p in parts)


def _refused(exc: ServerError) -> ValueError:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return ValueError(f"the server refused it (HTTP {exc.status}): {detail}")


class AutomationsApi:
    client: Client
    default_entity: str | None

    def _entity(self, entity: str | None = None) -> str:
        return entity or os.environ.get("TRACKWELL_ENTITY") or self.default_entity or "default"

    def project_automations(self, entity: str, project: str, name: str | None = None) -> list[Automation]:
        """The project's automations (``Api().project("e/p").automations()`` calls this)."""
        from trackwell.automations import Automation

        found = self.client.get(_path("automations", entity, project), {"name": name} if name else None, msgpack=False)
        return [Automation.from_wire(a) for a in found["automations"]]

    # -- integrations ----------------------------------------------------------------------

    def create_integration(self, integration: Integration, entity: str | None = None) -> Integration:
        """Save ``integration`` (the same name and URL again returns the saved one). A webhook
        integration saved without a secret gets one, readable once on the result's ``secret``."""
        from trackwell.automations._integrations import integration_from_wire

        body = integration.model_dump(mode="json", exclude_none=True, exclude={"id", "entity"})
        try:
            saved = self.client.request("POST", _path("integrations", self._entity(entity or integration.entity)),
                                        json=body)
        except ServerError as exc:
            if exc.status in (409, 422):
                raise _refused(exc) from exc
            raise
        result = integration_from_wire(saved)
        if saved.get("secret") is not None:
            result.secret = saved["secret"]  # type: ignore[attr-defined]
        elif getattr(integration, "secret", None) is not None:
            result.secret = integration.secret  # type: ignore[attr-defined]
        return result

    def integrations(self, entity: str | None = None) -> list[Integration]:
        from trackwell.automations._integrations import integration_from_wire

        found = self.client.get(_path("integrations", self._entity(entity)), msgpack=False)
        return [integration_from_wire(i) for i in found["integrations"]]

    def slack_integrations(self, entity: str | None = None) -> list[Integration]:
        return [i for i in self.integrations(entity) if getattr(i, "kind", None) == "slack"]

    def webhook_integrations(self, entity: str | None = None) -> list[Integration]:
        return [i for i in self.integrations(entity) if getattr(i, "kind", None) == "webhook"]

    def delete_integration(self, integration: Integration | int, entity: str | None = None) -> bool:
        ident = integration if isinstance(integration, int) else integration.id
        owner = entity if isinstance(integration, int) else (entity or integration.entity)
        try:
            self.client.request("DELETE", _path("integrations", self._entity(owner), str(ident)))
        except ServerError as exc:
            raise _refused(exc) from exc
        return True

    # -- automations -----------------------------------------------------------------------

    def _save_integrations(self, action: Any, entity: str) -> Any:
        """An action carrying an unsaved integration (the seed's shape): save it, use its id."""
        pending = getattr(action, "integration", None)
        if pending is None or getattr(action, "integration_id", None) is not None:
            return action
        saved = self.create_integration(pending, entity)
        return action.model_copy(update={"integration_id": saved.id, "integration": None})

    def create_automation(self, obj: NewAutomation, *, fetch_existing: bool = False, **kwargs: Any) -> Automation:
        """Save ``obj`` (``kwargs`` override its fields: name, description, enabled, cooldown,
        event, action, scope). A name taken in the entity raises ValueError, or returns that
        automation with ``fetch_existing=True``."""
        from trackwell.automations import Automation

        new = obj.model_copy(update={k: v for k, v in kwargs.items() if k in _AUTOMATION_FIELDS and k != "scope"
                                     and v is not None})
        if kwargs.get("scope") is not None and new.event is not None:
            new.event = new.event.model_copy(update={"scope": type(new.event).model_validate(
                {"scope": kwargs["scope"], "filter": getattr(new.event, "filter", None)}).scope})
        if not new.name:
            raise ValueError("an automation needs a name: create_automation(obj, name=...) or obj.save(name=...)")
        scope = new.scope
        entity = self._entity(scope.entity)
        new.action = self._save_integrations(new.action, entity)
        try:
            saved = self.client.request("POST", _path("automations", entity, scope.project), json=new.to_wire())
        except ServerError as exc:
            if exc.status == 409 and fetch_existing:
                return self.automation(new.name, entity=entity)
            if exc.status in (409, 422):
                raise _refused(exc) from exc
            raise
        return Automation.from_wire(saved)

    def automations(self, entity: str | None = None, *, name: str | None = None) -> Iterator[Automation]:
        from trackwell.automations import Automation

        found = self.client.get(_path("automations", self._entity(entity)), {"name": name} if name else None,
                                msgpack=False)
        for data in found["automations"]:
            yield Automation.from_wire(data)

    def automation(self, name: str, *, entity: str | None = None) -> Automation:
        found = list(self.automations(entity, name=name))
        if len(found) != 1:
            raise ValueError(f"expected one automation named {name!r} in {self._entity(entity)}, found {len(found)}")
        return found[0]

    def update_automation(self, obj: Automation, *, create_missing: bool = False, **kwargs: Any) -> Automation:
        from trackwell.automations import Automation, NewAutomation

        updated = obj.model_copy(update={k: v for k, v in kwargs.items() if k in _AUTOMATION_FIELDS})
        scope = obj.scope
        entity = self._entity(scope.entity)
        updated.action = self._save_integrations(updated.action, entity)
        body = updated.to_wire()
        try:
            saved = self.client.request("PATCH", _path("automations", entity, scope.project, obj.name or ""),
                                        json=body)
        except ServerError as exc:
            if exc.status == 404 and create_missing:
                return self.create_automation(NewAutomation(**{k: getattr(updated, k) for k in _AUTOMATION_FIELDS
                                                               if k != "scope"}))
            if exc.status in (404, 409, 422):
                raise _refused(exc) from exc
            raise
        return Automation.from_wire(saved)

    def delete_automation(self, obj: Automation | int | str, entity: str | None = None) -> bool:
        """Delete by the automation, its id or its name; True, or ValueError naming why not."""
        if isinstance(obj, int | str):
            matches = [a for a in self.automations(entity) if obj in (a.id, a.name)]
            if len(matches) != 1:
                raise ValueError(f"no automation {obj!r} in {self._entity(entity)}")
            obj = matches[0]
        scope = obj.scope
        try:
            self.client.request("DELETE", _path("automations", self._entity(scope.entity), scope.project,
                                                obj.name or ""))
        except ServerError as exc:
            raise _refused(exc) from exc
        return True

    def automation_deliveries(self, obj: Automation, limit: int = 100) -> list[dict[str, Any]]:
        """The automation's deliveries, newest first, each with its ``attempt_log``."""
        scope = obj.scope
        found = self.client.get(_path("automations", self._entity(scope.entity), scope.project, obj.name or "",
                                      "deliveries"), {"limit": limit}, msgpack=False)
        return found["deliveries"]  # type: ignore[no-any-return]

    def redeliver(self, obj: Automation, delivery_id: str) -> None:
        """Send one delivery again now (same ``webhook-id``), with a fresh round of retries."""
        scope = obj.scope
        self.client.request("POST", _path("automations", self._entity(scope.entity), scope.project, obj.name or "",
                                          "deliveries", delivery_id, "redeliver"))
