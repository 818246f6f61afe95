"""Batch upload: the exactly-once ingest endpoint. An empty batch is a heartbeat; every answer
carries the run's state, which is how a client learns it was stopped."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trackwell.schema import Batch, decode_batch
from trackwell.server._encoding import decode_body, is_msgpack_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.ingest import ConcurrentIngest, InvalidBatch, ResumeConflict, SequenceGap
from trackwell.server.routers import _deps

router = APIRouter()


@router.post("/runs/{entity}/{project}/{run_id}/records")
async def post_records(request: Request, entity: str, project: str, run_id: str) -> Response:
    body = await request.body()
    try:
        # The schema's own decoder is the fast path for the SDK's msgpack batches.
        batch = decode_batch(body) if is_msgpack_body(request) else decode_body(request, body, Batch)
    except Exception as exc:  # msgspec raises several types; all mean "not a valid batch"
        raise ApiError(422, f"invalid batch for run {entity}/{project}/{run_id}: {exc}") from exc
    try:
        ack = await run_in_threadpool(_deps.ingestor(request).receive, entity, project, run_id, batch)
    except InvalidBatch as exc:
        raise ApiError(422, f"invalid batch for run {entity}/{project}/{run_id}: {exc}") from exc
    except SequenceGap as exc:
        raise ApiError(409, str(exc), error="sequence_gap", applied_seq=exc.applied_seq) from exc
    except ConcurrentIngest as exc:
        raise ApiError(503, str(exc)) from exc
    except ResumeConflict as exc:
        raise ApiError(409, str(exc), error="resume_conflict") from exc
    return respond(request, {"writer": ack.writer, "applied_seq": ack.applied_seq, "state": ack.state})
