from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from trackwell import __version__
from trackwell.server._encoding import respond

router = APIRouter()


@router.get("/health")
def health(request: Request) -> Response:
    return respond(request, {"status": "ok", "version": __version__})
