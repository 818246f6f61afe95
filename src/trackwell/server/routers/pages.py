"""The run URLs the SDK prints (``/<entity>/<project>/runs/<id>``). Until the web UI serves
them, they lead to the run's API view rather than to a 404."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action

router = APIRouter(dependencies=[Depends(require(Action.PUBLIC))])  # a redirect: it shows nothing


@router.get("/{entity}/{project}/runs/{run_id}", include_in_schema=False)
async def run_page(entity: str, project: str, run_id: str) -> RedirectResponse:
    return RedirectResponse(f"/api/v1/runs/{quote(entity)}/{quote(project)}/{quote(run_id)}", status_code=307)
