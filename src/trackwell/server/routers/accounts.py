"""Users, teams, API keys, projects and the audit log (see docs/auth.md for who may do what)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.server._encoding import request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.routers._bodies import body_of
from trackwell.server.services import Conflict

router = APIRouter()
_PROJECT_ADMIN = Depends(require(Action.PROJECT_ADMIN))
_RUN_READ = Depends(require(Action.RUN_READ))
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(max_length=256)]

SIGNED_IN = Depends(require(Action.SIGNED_IN))
SELF_WRITE = Depends(require(Action.SELF_WRITE))
TEAM_READ = Depends(require(Action.TEAM_READ))
TEAM_ADMIN = Depends(require(Action.TEAM_ADMIN))
ADMIN_READ = Depends(require(Action.ADMIN_READ))
ADMIN_WRITE = Depends(require(Action.ADMIN_WRITE))


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Text | None = None
    display_name: Text | None = None
    admin: bool = False
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=1024)] | None = None


class NewTeam(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class Role(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(max_length=16)] = "member"


class NewKey(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    read_only: bool = False
    expires_in_days: Annotated[float, msgspec.Meta(gt=0, le=3650)] | None = None
    user: Name | None = None


class Visibility(msgspec.Struct, forbid_unknown_fields=True):
    visibility: Annotated[str, msgspec.Meta(max_length=16)]


async def _call(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Response:
    """Run a service call off the event loop; its ValueError is a 422, Conflict a 409 (NotFound,
    Forbidden: the handlers in ``_deps``)."""
    try:
        result = await run_in_threadpool(fn, *args, **kwargs)
    except Conflict as exc:
        raise ApiError(409, str(exc), error="conflict") from exc
    except ValueError as exc:
        raise ApiError(422, str(exc)) from exc
    return respond(request, result)


# -- users ----------------------------------------------------------------------------------

@router.get("/users", dependencies=[ADMIN_READ])
async def list_users(request: Request) -> Response:
    return await _call(request, lambda: {"users": _deps.accounts(request).list_users()})


@router.post("/users", openapi_extra=request_body(NewUser))
async def create_user(request: Request, who: Principal = ADMIN_WRITE) -> Response:
    body = await body_of(request, NewUser, '{"name": ..., "email"?, "display_name"?, "admin"?, "password"?}')
    return await _call(request, _deps.accounts(request).create_user, who, body.name, email=body.email,
                       display_name=body.display_name, admin=body.admin, password=body.password)


@router.post("/users/{name}/deactivate")
async def deactivate_user(request: Request, name: str, who: Principal = ADMIN_WRITE) -> Response:
    return await _call(request, _deps.accounts(request).set_active, who, name, False)


@router.post("/users/{name}/activate")
async def activate_user(request: Request, name: str, who: Principal = ADMIN_WRITE) -> Response:
    return await _call(request, _deps.accounts(request).set_active, who, name, True)


# -- teams ----------------------------------------------------------------------------------

@router.get("/teams")
async def list_teams(request: Request, who: Principal = SIGNED_IN) -> Response:
    return await _call(request, lambda: {"teams": _deps.accounts(request).teams_of(who)})


@router.post("/teams", openapi_extra=request_body(NewTeam))
async def create_team(request: Request, who: Principal = SELF_WRITE) -> Response:
    body = await body_of(request, NewTeam, '{"name": "<team>"}')
    return await _call(request, _deps.accounts(request).create_team, who, body.name)


@router.get("/teams/{team}", dependencies=[TEAM_READ])
async def show_team(request: Request, team: str) -> Response:
    return await _call(request, _deps.accounts(request).team, team)


@router.put("/teams/{team}/members/{user}", openapi_extra=request_body(Role))
async def set_member(request: Request, team: str, user: str, who: Principal = TEAM_ADMIN) -> Response:
    body = await body_of(request, Role, '{"role": "admin" | "member" | "viewer"}')
    return await _call(request, _deps.accounts(request).set_member, who, team, user, body.role)


@router.delete("/teams/{team}/members/{user}")
async def remove_member(request: Request, team: str, user: str, who: Principal = TEAM_ADMIN) -> Response:
    return await _call(request, _deps.accounts(request).remove_member, who, team, user)


@router.post("/teams/{team}/service-accounts", openapi_extra=request_body(NewTeam))
async def create_service_account(request: Request, team: str, who: Principal = TEAM_ADMIN) -> Response:
    body = await body_of(request, NewTeam, '{"name": "<service account>"}')
    return await _call(request, _deps.accounts(request).create_service_account, who, team, body.name)


# -- keys -----------------------------------------------------------------------------------

@router.get("/keys")
async def list_keys(request: Request, user: str | None = Query(None, max_length=64),
                    who: Principal = SIGNED_IN) -> Response:
    return await _call(request, lambda: {"keys": _deps.accounts(request).list_keys(who, user)})


@router.post("/keys", openapi_extra=request_body(NewKey))
async def create_key(request: Request, who: Principal = SELF_WRITE) -> Response:
    body = await body_of(request, NewKey, '{"name"?, "read_only"?, "expires_in_days"?, "user"?}')
    return await _call(request, _deps.accounts(request).create_key, who, user=body.user, name=body.name,
                       read_only=body.read_only, expires_in_days=body.expires_in_days)


@router.delete("/keys/{prefix}")
async def revoke_key(request: Request, prefix: str, who: Principal = SELF_WRITE) -> Response:
    return await _call(request, _deps.accounts(request).revoke_key, who, prefix)


# -- projects, audit ------------------------------------------------------------------------

@router.get("/projects/{entity}")
async def list_projects(request: Request, entity: str, who: Principal = SIGNED_IN) -> Response:
    return await _call(request, lambda: {"projects": _deps.accounts(request).projects(who, entity)})


@router.get("/projects/{entity}/{project}")
async def show_project(request: Request, entity: str, project: str,
                       who: Principal = _RUN_READ) -> Response:
    return await _call(request, _deps.accounts(request).project, who, entity, project)


@router.patch("/projects/{entity}/{project}", openapi_extra=request_body(Visibility))
async def set_visibility(request: Request, entity: str, project: str,
                         who: Principal = _PROJECT_ADMIN) -> Response:
    body = await body_of(request, Visibility, '{"visibility": "private" | "team" | "public"}')
    return await _call(request, _deps.accounts(request).set_visibility, who, entity, project, body.visibility)


@router.get("/audit", dependencies=[ADMIN_READ])
async def audit(request: Request, limit: int = Query(100, ge=1, le=1000),
                before: int | None = Query(None, ge=1, le=2**62)) -> Response:
    return await _call(request, lambda: {"entries": _deps.accounts(request).audit(limit, before)})
