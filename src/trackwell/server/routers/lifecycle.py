"""Run lifecycle: resume info, rewind, fork, stop, preempting."""

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
from trackwell.server.routers.runs import RunFields, run_values
from trackwell.server.services import Conflict

router = APIRouter()
_RUN = "/runs/{entity}/{project}/{run_id}"
_WRITE = Depends(require(Action.RUN_WRITE))
Step = Annotated[int, msgspec.Meta(ge=0, le=validation.INT64_MAX)]


class RewindBody(msgspec.Struct, forbid_unknown_fields=True):
    step: Step


class ForkBody(RunFields, kw_only=True):
    """The new run's fields, plus where it branches off."""

    source: Annotated[str, msgspec.Meta(min_length=1, max_length=validation.MAX_PATH_CHARS)]
    step: Step


async def _call(fn: Callable[..., dict[str, Any]], request: Request, *args: Any) -> Response:
    try:
        result = await run_in_threadpool(fn, *args)
    except LookupError as exc:
        raise ApiError(404, str(exc)) from exc
    except Conflict as exc:
        raise ApiError(409, str(exc)) from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    return respond(request, result)


@router.get(_RUN + "/resume", dependencies=[Depends(require(Action.RUN_READ))])
async def resume(request: Request, entity: str, project: str, run_id: str) -> Response:
    """``{"run": {...}, "last_step": n or null, "next_step": n}``: where a resumed writer goes on."""
    return await _call(_deps.lifecycle(request).resume_info, request, entity, project, run_id)


@router.post(_RUN + "/rewind", openapi_extra=request_body(RewindBody))
async def rewind(request: Request, entity: str, project: str, run_id: str, who: Principal | None = _WRITE) -> Response:
    body = await body_of(request, RewindBody, '{"step": N}')
    return await _call(_deps.lifecycle(request).rewind, request, entity, project, run_id, body.step,
                       _deps.actor(who))


@router.post(_RUN + "/fork", openapi_extra=request_body(ForkBody))
async def fork(request: Request, entity: str, project: str, run_id: str, who: Principal | None = _WRITE) -> Response:
    body = await body_of(request, ForkBody, '{"source": "<run id>", "step": N}')
    fields = {k: v for k, v in run_values(body).items() if k not in ("source", "step")}
    await run_in_threadpool(_deps.check_new_run_path, request, entity, project, run_id)
    try:
        validation.check_text(body.source, "source")
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid body: {exc}") from None
    return await _call(_deps.lifecycle(request).fork, request, entity, project, run_id, body.source, body.step, fields,
                       _deps.actor(who))


@router.post(_RUN + "/stop")
async def stop(request: Request, entity: str, project: str, run_id: str, who: Principal | None = _WRITE) -> Response:
    return await _call(_deps.lifecycle(request).stop, request, entity, project, run_id, _deps.actor(who))


@router.post(_RUN + "/preempting", dependencies=[_WRITE])
async def preempting(request: Request, entity: str, project: str, run_id: str) -> Response:
    return await _call(_deps.lifecycle(request).preempting, request, entity, project, run_id)
