"""Runs: create/update, get, list (filters, order, cursor), per-metric summaries."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.server import validation
from trackwell.server._encoding import decode_body, request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.services import InvalidQuery

router = APIRouter()
_RUN_WRITE = Depends(require(Action.RUN_WRITE))


class RunFields(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | None = None
    group: str | None = None
    job_type: str | None = None
    tags: list[str] | None = None
    notes: str | None = None
    config: dict[str, Any] | None = None


def run_values(fields: RunFields) -> dict[str, Any]:
    """The fields a body sets, checked (``server.validation``): 422 naming the problem."""
    values = {k: v for k, v in msgspec.structs.asdict(fields).items() if v is not None}
    try:
        validation.check_run_fields(values)
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid run body: {exc}") from None
    return values


@router.put("/runs/{entity}/{project}/{run_id}", openapi_extra=request_body(RunFields))
async def upsert_run(request: Request, entity: str, project: str, run_id: str,
                     who: Principal | None = _RUN_WRITE) -> Response:
    body = await request.body()
    try:
        fields = decode_body(request, body or b"{}", RunFields)
    except ValueError as exc:
        raise ApiError(422, f"invalid run body: {exc}; settable fields are name, group, job_type, tags, "
                            "notes, config") from exc
    values = run_values(fields)
    run = await run_in_threadpool(_deps.runs(request).upsert, entity, project, run_id, values, _deps.actor(who))
    return respond(request, run)


@router.get("/runs/{entity}/{project}/{run_id}", dependencies=[Depends(require(Action.RUN_READ))])
def get_run(request: Request, entity: str, project: str, run_id: str) -> Response:
    return respond(request, _deps.runs(request).get(entity, project, run_id))


@router.get("/runs/{entity}/{project}", dependencies=[Depends(require(Action.RUN_READ))])
def list_runs(request: Request, entity: str, project: str, filters: str | None = None,
              order: str = "-created_at", limit: int = 50, cursor: str | None = None) -> Response:
    # ``limit`` is checked by the store (400 naming it) before it reaches SQL.
    try:
        runs, next_cursor = _deps.runs(request).list(entity, project, filters=filters, order=order, limit=limit,
                                                     cursor=cursor)
    except InvalidQuery as exc:
        raise ApiError(400, str(exc)) from exc
    return respond(request, {"runs": runs, "next_cursor": next_cursor})


@router.get("/runs/{entity}/{project}/{run_id}/metrics", dependencies=[Depends(require(Action.RUN_READ))])
def run_metrics(request: Request, entity: str, project: str, run_id: str) -> Response:
    return respond(request, {"metrics": _deps.runs(request).metric_summaries(entity, project, run_id)})
