from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from trackwell import __version__
from trackwell.server._encoding import respond
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action

router = APIRouter(dependencies=[Depends(require(Action.PUBLIC))])


@router.get("/health")
def health(request: Request) -> Response:
    return respond(request, {"status": "ok", "version": __version__})
