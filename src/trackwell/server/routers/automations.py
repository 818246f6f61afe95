"""Automations, their delivery log, and the integrations they send to (docs/automations.md).

Who may: read a project's automations and deliveries, whoever reads the project; create, change,
delete and redeliver, whoever writes to it; integrations (the destinations and their secrets),
the entity's owner or its team admins; listing them, the entity's members (secrets never shown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.server._encoding import request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal, can_read_project
from trackwell.server.routers import _deps
from trackwell.server.routers._bodies import body_of
from trackwell.server.services import Conflict
from trackwell.server.services.automations import AutomationsService

router = APIRouter()
_READ = Depends(require(Action.RUN_READ))
_WRITE = Depends(require(Action.RUN_WRITE))
_ENTITY_ADMIN = Depends(require(Action.PROJECT_ADMIN))
_BODY = request_body(dict[str, Any])
_EXAMPLE = '{"name": ..., "event": {"type", "filter"}, "action": {"type", ...}, "enabled"?, "description"?, "cooldown"?}'


def _service(request: Request) -> AutomationsService:
    return request.app.state.automations  # type: ignore[no-any-return]


async def _call(request: Request, fn: Callable[..., Any], *args: Any) -> Response:
    try:
        result = await run_in_threadpool(fn, *args)
    except Conflict as exc:
        raise ApiError(409, str(exc), error="conflict") from exc
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    return respond(request, result)


# -- integrations ------------------------------------------------------------------------------

@router.get("/integrations/{entity}", dependencies=[_READ])
async def list_integrations(request: Request, entity: str) -> Response:
    return await _call(request, lambda: {"integrations": _service(request).integrations(entity)})


@router.post("/integrations/{entity}", openapi_extra=_BODY)
async def create_integration(request: Request, entity: str, who: Principal = _ENTITY_ADMIN) -> Response:
    body = await body_of(request, dict[str, Any], '{"kind": "webhook" | "slack", "url" | "webhook_url", "name"?, '
                                                  '"secret"?, "access_token"?}')
    return await _call(request, _service(request).create_integration, entity, body, _deps.actor(who))


@router.delete("/integrations/{entity}/{integration_id}", dependencies=[_ENTITY_ADMIN])
async def delete_integration(request: Request, entity: str,
                             integration_id: int = Path(ge=1, le=2**31 - 1)) -> Response:  # an INTEGER column
    return await _call(request, _service(request).delete_integration, entity, integration_id)


# -- automations -------------------------------------------------------------------------------

@router.get("/automations/{entity}")
async def list_entity_automations(request: Request, entity: str, name: str | None = Query(None, max_length=255),
                                  who: Principal = _READ) -> Response:
    """The entity's automations in the projects the caller may read."""
    identity = _deps.services(request).identity

    def visible() -> dict[str, Any]:
        found = _service(request).automations(entity, None, name)
        return {"automations": [a for a in found if can_read_project(who, identity.target(entity, a["project"]))]}

    return await _call(request, visible)


@router.get("/automations/{entity}/{project}", dependencies=[_READ])
async def list_automations(request: Request, entity: str, project: str,
                           name: str | None = Query(None, max_length=255)) -> Response:
    return await _call(request, lambda: {"automations": _service(request).automations(entity, project, name)})


@router.post("/automations/{entity}/{project}", openapi_extra=_BODY)
async def create_automation(request: Request, entity: str, project: str, who: Principal = _WRITE) -> Response:
    body = await body_of(request, dict[str, Any], _EXAMPLE)
    return await _call(request, _service(request).create, entity, project, body, _deps.actor(who))


@router.get("/automations/{entity}/{project}/{name}", dependencies=[_READ])
async def show_automation(request: Request, entity: str, project: str, name: str) -> Response:
    return await _call(request, _service(request).get, entity, project, name)


@router.patch("/automations/{entity}/{project}/{name}", openapi_extra=_BODY, dependencies=[_WRITE])
async def update_automation(request: Request, entity: str, project: str, name: str) -> Response:
    body = await body_of(request, dict[str, Any], _EXAMPLE)
    return await _call(request, _service(request).update, entity, project, name, body)


@router.delete("/automations/{entity}/{project}/{name}", dependencies=[_WRITE])
async def delete_automation(request: Request, entity: str, project: str, name: str) -> Response:
    return await _call(request, _service(request).delete, entity, project, name)


@router.get("/automations/{entity}/{project}/{name}/deliveries", dependencies=[_READ])
async def deliveries(request: Request, entity: str, project: str, name: str,
                     limit: int = Query(100, ge=1, le=1000), before: float | None = Query(None, ge=0, le=1e12)) -> Response:
    """Newest first, each with every attempt (time, status code, error, first KiB of the answer)."""
    return await _call(request, lambda: {"deliveries": _service(request).deliveries(entity, project, name, limit,
                                                                                     before)})


@router.post("/automations/{entity}/{project}/{name}/deliveries/{delivery_id}/redeliver", dependencies=[_WRITE])
async def redeliver(request: Request, entity: str, project: str, name: str, delivery_id: str) -> Response:
    return await _call(request, _service(request).redeliver, entity, project, name, delivery_id)


# -- run.alert ---------------------------------------------------------------------------------

@router.post("/runs/{entity}/{project}/{run_id}/alerts", openapi_extra=_BODY)
async def alert(request: Request, entity: str, project: str, run_id: str, who: Principal = _WRITE) -> Response:
    """``{title, text?, level?: INFO|WARN|ERROR, wait_duration?: seconds}`` -> ``{"sent": bool}``."""
    body = await body_of(request, dict[str, Any], '{"title": ..., "text"?, "level"?, "wait_duration"?}')
    return await _call(request, _service(request).alert, entity, project, run_id, body, _deps.actor(who))
