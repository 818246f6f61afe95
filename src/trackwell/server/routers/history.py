"""History: downsampled buckets, sampled rows, paged scan, NDJSON export."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from trackwell.server._encoding import json_bytes, respond
from trackwell.server._errors import ApiError
from trackwell.server.routers import _deps

router = APIRouter()
_RUN = "/runs/{entity}/{project}/{run_id}"


@router.get(_RUN + "/history/buckets")
def buckets(request: Request, entity: str, project: str, run_id: str, key: str,
            buckets: int = Query(1000, ge=1, le=100_000), min_step: int | None = None,
            max_step: int | None = None) -> Response:
    ref = _deps.run_ref(request, entity, project, run_id)
    store = _deps.metrics(request)
    result = store.downsample(ref, key, buckets, min_step, max_step)
    if not result["count"]:
        keys = store.keys(ref)
        if key not in keys:
            shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
            raise ApiError(404, f"run {entity}/{project}/{run_id} has no metric {key!r}; "
                                f"its keys are: {shown or '(none logged yet)'}")
    return respond(request, result)


@router.get(_RUN + "/history")
def history(request: Request, entity: str, project: str, run_id: str, keys: str | None = None,
            samples: int = Query(500, ge=1, le=100_000)) -> Response:
    ref = _deps.run_ref(request, entity, project, run_id)
    return respond(request, {"rows": _deps.metrics(request).sample(ref, _deps.split_keys(keys), samples)})


@router.get(_RUN + "/history/scan")
def scan(request: Request, entity: str, project: str, run_id: str, keys: str | None = None,
         min_step: int | None = None, page_size: int = Query(1000, ge=1, le=100_000)) -> Response:
    ref = _deps.run_ref(request, entity, project, run_id)
    rows, next_step = _deps.metrics(request).scan(ref, _deps.split_keys(keys), min_step, page_size)
    return respond(request, {"rows": rows, "next_step": next_step})


@router.get(_RUN + "/history/export")
def export(request: Request, entity: str, project: str, run_id: str, keys: str | None = None) -> Response:
    ref = _deps.run_ref(request, entity, project, run_id)
    store, selected = _deps.metrics(request), _deps.split_keys(keys)

    def lines() -> Iterator[bytes]:
        min_step: int | None = None
        while True:
            rows, min_step = store.scan(ref, selected, min_step, 5000)
            if rows:
                yield b"".join(json_bytes(row) + b"\n" for row in rows)
            if min_step is None:
                return

    return StreamingResponse(lines(), media_type="application/x-ndjson")
