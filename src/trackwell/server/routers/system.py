"""A run's system metrics (``system/...`` against time, never a step) and its metadata."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from trackwell.server._encoding import respond
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action
from trackwell.server.routers import _deps

router = APIRouter(dependencies=[Depends(require(Action.RUN_READ))])
_RUN = "/runs/{entity}/{project}/{run_id}"
_KEYS = Query(None, description="keys=a,b; keys=a&keys=b (commas kept); or a JSON array of keys")


@router.get(_RUN + "/system")
def system_metrics(request: Request, entity: str, project: str, run_id: str,
                   keys: list[str] | None = _KEYS,
                   samples: int = Query(1000, ge=1, le=100_000)) -> Response:
    """``{"count", "keys", "runtime": [...], "ts": [...], "series": {key: [...]}}``: up to
    ``samples`` samples evenly spread over the run (all ``count`` of them if fewer)."""
    body = _deps.system(request).metrics(entity, project, run_id, _deps.split_keys(keys), samples)
    return respond(request, body)


@router.get(_RUN + "/metadata")
def run_metadata(request: Request, entity: str, project: str, run_id: str) -> Response:
    """What the run ran on: host, OS, Python, program and args, git, CPU/GPU, memory."""
    return respond(request, _deps.system(request).metadata(entity, project, run_id))
