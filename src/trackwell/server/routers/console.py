from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from trackwell.server._encoding import respond
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action
from trackwell.server.routers import _deps

router = APIRouter(dependencies=[Depends(require(Action.RUN_READ))])  # ``offset`` is bound by the 32-bit line number column


@router.get("/runs/{entity}/{project}/{run_id}/console")
def console(request: Request, entity: str, project: str, run_id: str,
            offset: int = Query(0, ge=0, le=2**31 - 1), limit: int = Query(1000, ge=1, le=10_000)) -> Response:
    lines, next_offset = _deps.console(request).lines(entity, project, run_id, offset, limit)
    return respond(request, {"lines": lines, "next_offset": next_offset})


@router.get("/runs/{entity}/{project}/{run_id}/events")
def events(request: Request, entity: str, project: str, run_id: str, after: int = Query(0, ge=0, le=2**62),
           limit: int = Query(1000, ge=1, le=10_000)) -> Response:
    """Lifecycle events, oldest first; ``actor`` is the user who made the change (None: the server)."""
    return respond(request, {"events": _deps.console(request).events(entity, project, run_id, after, limit)})
