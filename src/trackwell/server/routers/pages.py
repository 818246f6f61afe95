"""The run URLs the SDK prints (``/<entity>/<project>/runs/<id>``). Until the web UI serves
them, they lead to the run's API view rather than to a 404."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter()


@router.get("/{entity}/{project}/runs/{run_id}", include_in_schema=False)
async def run_page(entity: str, project: str, run_id: str) -> RedirectResponse:
    return RedirectResponse(f"/api/v1/runs/{quote(entity)}/{quote(project)}/{quote(run_id)}", status_code=307)
