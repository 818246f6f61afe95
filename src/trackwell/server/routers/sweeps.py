"""Sweeps: create, read, list, pause/resume/stop/cancel; agents register and heartbeat for commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.server import validation
from trackwell.server._encoding import request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.routers._bodies import body_of
from trackwell.server.services import Conflict, TooManyAgents

router = APIRouter()
_SWEEPS = "/sweeps/{entity}/{project}"
_SWEEP = _SWEEPS + "/{sweep_id}"
_READ = Depends(require(Action.RUN_READ))
_WRITE = Depends(require(Action.RUN_WRITE))
RunId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
MAX_PRIOR_RUNS = 10_000


class CreateBody(msgspec.Struct, forbid_unknown_fields=True):
    config: dict[str, Any]
    prior_runs: Annotated[list[RunId], msgspec.Meta(max_length=MAX_PRIOR_RUNS)] = []


class ControlBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str


class AgentBody(msgspec.Struct, forbid_unknown_fields=True):
    host: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    pid: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


class HeartbeatBody(msgspec.Struct, forbid_unknown_fields=True):
    runs: Annotated[dict[RunId, bool], msgspec.Meta(max_length=1000)] = {}
    done: bool = False  # the agent is quitting: its slot is free now


async def _call(fn: Callable[..., Any], request: Request, *args: Any) -> Response:
    try:
        result = await run_in_threadpool(fn, *args)
    except Conflict as exc:
        raise ApiError(409, str(exc)) from exc
    except TooManyAgents as exc:
        raise ApiError(409, str(exc), error="too_many_agents") from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    return respond(request, result)


def _check(value: Any, what: str) -> None:
    try:
        validation.check_value(value, what)
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid body: {exc}") from None


@router.post(_SWEEPS, openapi_extra=request_body(CreateBody))
async def create(request: Request, entity: str, project: str, who: Principal | None = _WRITE) -> Response:
    body = await body_of(request, CreateBody, '{"config": {"method": "grid", "parameters": {...}}, '
                                              '"prior_runs": ["<run id>", ...]}')
    _check(body.config, "config")
    return await _call(_deps.sweeps(request).create, request, entity, project, body.config, body.prior_runs,
                       _deps.actor(who))


@router.get(_SWEEPS, dependencies=[_READ])
async def list_sweeps(request: Request, entity: str, project: str) -> Response:
    return await _call(lambda: {"sweeps": _deps.sweeps(request).list_sweeps(entity, project)}, request)


@router.get(_SWEEP, dependencies=[_READ])
async def get_sweep(request: Request, entity: str, project: str, sweep_id: str) -> Response:
    return await _call(_deps.sweeps(request).get, request, entity, project, sweep_id)


@router.get(_SWEEP + "/runs", dependencies=[_READ])
async def sweep_runs(request: Request, entity: str, project: str, sweep_id: str) -> Response:
    return await _call(lambda: {"runs": _deps.sweeps(request).runs(entity, project, sweep_id)}, request)


@router.post(_SWEEP + "/control", openapi_extra=request_body(ControlBody))
async def control(request: Request, entity: str, project: str, sweep_id: str,
                  who: Principal | None = _WRITE) -> Response:
    body = await body_of(request, ControlBody, '{"action": "pause" | "resume" | "stop" | "cancel"}')
    return await _call(_deps.sweeps(request).control, request, entity, project, sweep_id, body.action,
                       _deps.actor(who))


@router.post(_SWEEP + "/agents", openapi_extra=request_body(AgentBody))
async def register_agent(request: Request, entity: str, project: str, sweep_id: str,
                         who: Principal | None = _WRITE) -> Response:
    body = await body_of(request, AgentBody, '{"host": "<hostname>", "pid": N}')
    if body.host is not None:
        _check(body.host, "host")
    return await _call(_deps.sweeps(request).register_agent, request, entity, project, sweep_id, body.host, body.pid,
                       _deps.actor(who))


@router.post(_SWEEP + "/agents/{agent_id}/heartbeat", openapi_extra=request_body(HeartbeatBody),
             dependencies=[_WRITE])
async def heartbeat(request: Request, entity: str, project: str, sweep_id: str, agent_id: str) -> Response:
    body = await body_of(request, HeartbeatBody, '{"runs": {"<run id>": true, ...}, "done": false} (true: still '
                                                 'running; done: the agent quits)')
    _check(list(body.runs), "runs")
    return await _call(_deps.sweeps(request).heartbeat, request, entity, project, sweep_id, agent_id, body.runs,
                       body.done)
