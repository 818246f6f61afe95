"""Batch upload: the exactly-once ingest endpoint. An empty batch is a heartbeat; every answer
carries the run's state, which is how a client learns it was stopped."""

from __future__ import annotations

import functools

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.schema import Batch, decode_batch
from trackwell.server import validation
from trackwell.server._encoding import decode_body, is_msgpack_body, request_body, respond
from trackwell.server._errors import ApiError, clip
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.services import (
    ConcurrentIngest,
    InvalidBatch,
    ResumeConflict,
    SequenceGap,
    WriterConflict,
)

router = APIRouter()
_RUN_WRITE = Depends(require(Action.RUN_WRITE))


def writer_conflict(exc: WriterConflict) -> ApiError:
    h = exc.holder
    return ApiError(409, str(exc), error="writer_conflict",
                    holder={"writer": h.writer, "host": h.host, "pid": h.pid, "label": h.label})


class WriterClaim(msgspec.Struct, forbid_unknown_fields=True):
    """``init()`` registers its journal writer before logging (see server/leases.py)."""

    writer: str
    host: str | None = None
    pid: int | None = None
    label: str | None = None
    shared: bool = False
    primary: bool | None = None
    after: dict[str, int] = {}


@router.post("/runs/{entity}/{project}/{run_id}/writers", openapi_extra=request_body(WriterClaim))
async def claim_writer(request: Request, entity: str, project: str, run_id: str,
                       who: Principal | None = _RUN_WRITE) -> Response:
    """Claim the run for a writer: 409 ``writer_conflict`` naming the live writer that holds it."""
    try:
        claim = decode_body(request, await request.body(), WriterClaim)
    except ValueError as exc:
        raise ApiError(422, f"invalid writer claim for run {entity}/{project}/{run_id}: {exc}") from exc
    try:
        validation.check_writer_claim(claim.writer, claim.host, claim.pid, claim.label, claim.after,
                                      (entity, project, run_id))
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid writer claim for run {clip(f'{entity}/{project}/{run_id}')}: {exc}") from exc
    try:
        got = await run_in_threadpool(_deps.ingest(request).claim, entity, project, run_id, claim.writer,
                                      host=claim.host, pid=claim.pid, label=claim.label, shared=claim.shared,
                                      primary=claim.primary, after=claim.after, actor=_deps.actor(who))
    except WriterConflict as exc:
        raise writer_conflict(exc) from exc
    return respond(request, {"writer": got.writer, "label": got.label, "shared": got.shared,
                             "primary": got.is_primary, "accepted_seq": got.accepted_seq})


@router.post("/runs/{entity}/{project}/{run_id}/records", openapi_extra=request_body(Batch))
async def post_records(request: Request, entity: str, project: str, run_id: str,
                       who: Principal | None = _RUN_WRITE) -> Response:
    body = await request.body()
    try:
        # The schema's own decoder is the fast path for the SDK's msgpack batches; a worker thread
        # decodes, so megabytes of batch never hold up the event loop (reads, 429s).
        batch = await run_in_threadpool(decode_batch, body) if is_msgpack_body(request) else \
            decode_body(request, body, Batch)
    except Exception as exc:  # msgspec raises several types; all mean "not a valid batch"
        raise ApiError(422, f"invalid batch for run {entity}/{project}/{run_id}: {exc}") from exc
    admission = request.app.state.admission
    try:
        # Every ingest slot busy or batches queued: the server is saturated, so the catch-up task
        # projects (many runs' batches in one metric-store transaction) and this request only accepts.
        ack = await run_in_threadpool(functools.partial(
            _deps.ingest(request).receive, entity, project, run_id, batch, _deps.actor(who),
            project_now=not (admission.saturated or admission.waiting)))
    except InvalidBatch as exc:
        raise ApiError(422, f"invalid batch for run {entity}/{project}/{run_id}: {exc}") from exc
    except SequenceGap as exc:
        raise ApiError(409, str(exc), error="sequence_gap", applied_seq=exc.applied_seq) from exc
    except ConcurrentIngest as exc:
        raise ApiError(503, str(exc)) from exc
    except ResumeConflict as exc:
        raise ApiError(409, str(exc), error="resume_conflict") from exc
    except WriterConflict as exc:
        raise writer_conflict(exc) from exc
    # While the server is saturated, the pace it can keep: clients that follow it are never refused.
    hint = admission.flush_interval()
    return respond(request, {"writer": ack.writer, "applied_seq": ack.applied_seq, "state": ack.state,
                             **({"flush_interval": hint} if hint is not None else {})})
