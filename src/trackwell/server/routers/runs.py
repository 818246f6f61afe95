"""Runs: create/update, get, list (filters, order, cursor), per-metric summaries; edit and delete
(the query API's ``run.update()`` / ``run.delete()``)."""

from __future__ import annotations

from typing import Annotated, Any

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
from trackwell.server.services import Conflict, InvalidQuery

router = APIRouter()
_RUN_WRITE = Depends(require(Action.RUN_WRITE))
_PATH = "/runs/{entity}/{project}/{run_id}"


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
    await run_in_threadpool(_deps.check_new_run_path, request, entity, project, run_id)
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


Keys = list[Annotated[str, msgspec.Meta(max_length=validation.MAX_KEY_CHARS)]]
_UNSET: Any = msgspec.UNSET


class RunPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What ``PATCH`` changes: only the fields present. ``group``, ``job_type``, ``notes`` may be
    null (cleared); ``config`` and ``summary`` are merged key by key, ``*_remove`` drops keys;
    summary keys set or removed stay so when more history is logged (as in the SDK)."""

    name: str | msgspec.UnsetType = _UNSET
    group: str | None | msgspec.UnsetType = _UNSET
    job_type: str | None | msgspec.UnsetType = _UNSET
    tags: list[str] | msgspec.UnsetType = _UNSET
    notes: str | None | msgspec.UnsetType = _UNSET
    config: dict[str, Any] | msgspec.UnsetType = _UNSET
    config_remove: Keys | msgspec.UnsetType = _UNSET
    summary: dict[str, Any] | msgspec.UnsetType = _UNSET
    summary_remove: Keys | msgspec.UnsetType = _UNSET


_PATCHABLE = ", ".join(RunPatch.__struct_fields__)


def patch_values(patch: RunPatch) -> dict[str, Any]:
    """The changes a body asks for, checked: 422 naming the field and the problem."""
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not msgspec.UNSET}
    if not changes:
        raise ApiError(422, f"invalid run update: the body changes nothing; give one or more of {_PATCHABLE}")
    try:
        validation.check_run_fields(changes)
        for field in ("config_remove", "summary_remove"):
            for i, key in enumerate(changes.get(field, ())):
                validation.check_key(key, f"{field}[{i}]")
        for key, value in changes.get("summary", {}).items():
            validation.check_key(key, "summary key")
            validation.check_value(value, f"summary.{key[:40]}")
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid run update: {exc}") from None
    return changes


@router.patch(_PATH, openapi_extra=request_body(RunPatch))
async def update_run(request: Request, entity: str, project: str, run_id: str,
                     who: Principal | None = _RUN_WRITE) -> Response:
    """Change an existing run (404 if there is none; 410 if it was deleted)."""
    try:
        patch = decode_body(request, await request.body() or b"{}", RunPatch)
    except ValueError as exc:
        raise ApiError(422, f"invalid run update: {exc}; the fields are {_PATCHABLE}") from exc
    run = await run_in_threadpool(_deps.edits(request).update, entity, project, run_id, patch_values(patch),
                                  _deps.actor(who))
    return respond(request, run)


@router.delete(_PATH)
async def delete_run(request: Request, entity: str, project: str, run_id: str,
                     who: Principal | None = _RUN_WRITE) -> Response:
    """Delete the run, its history, summary and console for good; again: 200 ``already_deleted``.
    A run whose forks read its history: 409 naming them."""
    try:
        result = await run_in_threadpool(_deps.edits(request).delete, entity, project, run_id, _deps.actor(who))
    except Conflict as exc:
        raise ApiError(409, str(exc), error="conflict") from exc
    return respond(request, result)
