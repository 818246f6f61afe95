"""History: downsampled buckets, sampled rows, paged scan, NDJSON export.

``keys`` selects metrics: ``keys=a,b`` (split at commas), ``keys=a&keys=b`` (each value one key,
so a key may hold a comma) or ``keys=["a,b","c"]`` (a JSON array); without it, every key.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from trackwell.server import validation
from trackwell.server._encoding import json_bytes, respond
from trackwell.server._errors import ApiError, clip
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action
from trackwell.server.routers import _deps
from trackwell.server.routers._deps import INT64_MAX, INT64_MIN
from trackwell.server.services import MetricNotFound
from trackwell.server.validation import MAX_KEY_CHARS

router = APIRouter(dependencies=[Depends(require(Action.RUN_READ))])
_RUN = "/runs/{entity}/{project}/{run_id}"
_KEYS = Query(None, description="keys=a,b; keys=a&keys=b (commas kept); or a JSON array of keys")


def _step() -> int | None:
    return Query(None, ge=INT64_MIN, le=INT64_MAX)  # type: ignore[no-any-return]


_X_AXIS = Query(None, max_length=MAX_KEY_CHARS,
                description="a metric to read the history against (e.g. a define_metric step_metric); "
                            "default _step")
_X = Query(None, max_length=MAX_KEY_CHARS, description="short for x_axis")


def _x_axis(x_axis: str | None, x: str | None) -> str | None:
    chosen = x_axis or x
    if chosen is not None:
        try:
            validation.check_key(chosen, "x_axis")
        except validation.InvalidValue as exc:
            raise ApiError(422, f"invalid x_axis: {exc}") from None
    return chosen


def _no_metric(exc: MetricNotFound) -> ApiError:
    keys = exc.keys
    shown = ", ".join(clip(k, 100) for k in keys[:20]) + (", ..." if len(keys) > 20 else "")
    return ApiError(404, f"run {clip(exc.path)} has no metric {clip(exc.key)}; "
                         f"its keys are: {shown or '(none logged yet)'}")


@router.get(_RUN + "/history/buckets")
def buckets(request: Request, entity: str, project: str, run_id: str, key: str,
            buckets: int = Query(1000, ge=1, le=100_000), min_step: int | None = _step(),
            max_step: int | None = _step(), x_axis: str | None = _X_AXIS, x: str | None = _X) -> Response:
    """``key`` in equal step ranges; with ``x_axis``, each point also has ``x``: that metric's
    value as of its step."""
    try:
        result = _deps.history(request).buckets(entity, project, run_id, key, buckets, min_step, max_step,
                                                _x_axis(x_axis, x))
    except MetricNotFound as exc:
        raise _no_metric(exc) from exc
    return respond(request, result)


@router.get(_RUN + "/history")
def history(request: Request, entity: str, project: str, run_id: str, keys: list[str] | None = _KEYS,
            samples: int = Query(500, ge=1, le=100_000), x_axis: str | None = _X_AXIS,
            x: str | None = _X) -> Response:
    """Up to ``samples`` rows spread over the run; with ``x_axis``, over the steps that metric
    was logged at (every row has it)."""
    try:
        rows = _deps.history(request).sample(entity, project, run_id, _deps.split_keys(keys), samples,
                                             _x_axis(x_axis, x))
    except MetricNotFound as exc:
        raise _no_metric(exc) from exc
    return respond(request, {"rows": rows})


@router.get(_RUN + "/history/scan")
def scan(request: Request, entity: str, project: str, run_id: str, keys: list[str] | None = _KEYS,
         min_step: int | None = _step(), page_size: int = Query(1000, ge=1, le=100_000)) -> Response:
    rows, next_step = _deps.history(request).scan(entity, project, run_id, _deps.split_keys(keys), min_step,
                                                  page_size)
    return respond(request, {"rows": rows, "next_step": next_step})


@router.get(_RUN + "/history/export")
def export(request: Request, entity: str, project: str, run_id: str, keys: list[str] | None = _KEYS) -> Response:
    pages = _deps.history(request).export(entity, project, run_id, _deps.split_keys(keys))
    return StreamingResponse((b"".join(json_bytes(row) + b"\n" for row in rows) for rows in pages),
                             media_type="application/x-ndjson")
