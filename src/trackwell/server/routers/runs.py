"""Runs: create/update, get, list (filters, order, cursor), per-metric summaries."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy.exc as sa_exc
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.server import validation
from trackwell.server._encoding import decode_body, request_body, respond
from trackwell.server._errors import ApiError, run_not_found
from trackwell.server.routers import _deps
from trackwell.store.metadata import QueryError, explain_failure, filters_from_json

router = APIRouter()


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
async def upsert_run(request: Request, entity: str, project: str, run_id: str) -> Response:
    body = await request.body()
    try:
        fields = decode_body(request, body or b"{}", RunFields)
    except ValueError as exc:
        raise ApiError(422, f"invalid run body: {exc}; settable fields are name, group, job_type, tags, "
                            "notes, config") from exc
    values = run_values(fields)
    run = await run_in_threadpool(_deps.metadata(request).upsert_run, entity, project, run_id, values)
    return respond(request, run)


@router.get("/runs/{entity}/{project}/{run_id}")
def get_run(request: Request, entity: str, project: str, run_id: str) -> Response:
    run = _deps.metadata(request).get_run(entity, project, run_id)
    if run is None:
        raise run_not_found(entity, project, run_id)
    return respond(request, run)


@router.get("/runs/{entity}/{project}")
def list_runs(request: Request, entity: str, project: str, filters: str | None = None,
              order: str = "-created_at", limit: int = 50, cursor: str | None = None) -> Response:
    # ``limit`` is checked by the store (400 naming it) before it reaches SQL.
    spec: Any = None
    try:
        spec = filters_from_json(filters)
        runs, next_cursor = _deps.metadata(request).list_runs(
            entity, project, filters=spec, order=order, limit=limit, cursor=cursor)
    except RecursionError:
        raise ApiError(400, "filters are nested too deeply to parse; simplify them") from None
    except QueryError as exc:
        raise ApiError(400, str(exc)) from exc
    except sa_exc.DBAPIError as exc:  # a $regex over the time budget, or one PostgreSQL refuses
        problem = explain_failure(exc, spec)
        if problem is None:
            raise
        raise ApiError(400, str(problem)) from exc
    return respond(request, {"runs": runs, "next_cursor": next_cursor})


@router.get("/runs/{entity}/{project}/{run_id}/metrics")
def run_metrics(request: Request, entity: str, project: str, run_id: str) -> Response:
    pk = _deps.run_pk(request, entity, project, run_id)
    return respond(request, {"metrics": _deps.metadata(request).metric_summaries(pk)})
