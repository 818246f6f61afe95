"""The workspace's batched chart data: ``GET /projects/{entity}/{project}/buckets``.

Under ``/projects`` rather than ``/runs/{entity}/{project}/buckets``, which is the path of a run
named ``buckets``. ``runs`` and ``keys`` take the shapes of history's ``keys`` (``a,b``; repeated;
a JSON array).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from trackwell.server import validation
from trackwell.server._encoding import respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action
from trackwell.server.routers import _deps
from trackwell.server.routers._deps import INT64_MAX, INT64_MIN
from trackwell.server.services.workspace import WorkspaceService

router = APIRouter(dependencies=[Depends(require(Action.RUN_READ))])

MAX_RUNS = 100
MAX_KEYS = 100
MAX_SERIES = 1000  # runs x keys in one request
_RUNS = Query(None, description="run ids: a,b; repeated (commas kept); or a JSON array")
_KEYS = Query(None, description="metric keys: a,b; repeated (commas kept); or a JSON array")


def _step() -> int | None:
    return Query(None, ge=INT64_MIN, le=INT64_MAX)  # type: ignore[no-any-return]


def _selected(values: list[str] | None, name: str, limit: int, max_chars: int) -> list[str]:
    selected = _deps.split_keys(values) or []
    if not selected:
        raise ApiError(422, f"{name} is empty: name at least one, e.g. {name}=a,b")
    if len(selected) > limit:
        raise ApiError(422, f"{name} names {len(selected)}, over the limit of {limit} per request; "
                            "split the request")
    try:  # text a database can hold, like a path's run id (a NUL would reach SQL)
        for value in selected:
            validation.check_text(value, name, max_chars)
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid {name}: {exc}") from None
    return list(dict.fromkeys(selected))


@router.get("/projects/{entity}/{project}/buckets")
def project_buckets(request: Request, entity: str, project: str,
                    runs: list[str] | None = _RUNS, keys: list[str] | None = _KEYS,
                    buckets: int = Query(1000, ge=1, le=10_000), min_step: int | None = _step(),
                    max_step: int | None = _step()) -> Response:
    """``{"runs": {run_id: {key: {count, first, last, buckets}} or null}}``: each key of each run in
    ``buckets`` equal step ranges (as ``/history/buckets``); a key the run never logged has count 0,
    a run not in the project is null."""
    run_ids = _selected(runs, "runs", MAX_RUNS, validation.MAX_PATH_CHARS)
    metric_keys = _selected(keys, "keys", MAX_KEYS, validation.MAX_KEY_CHARS)
    if len(run_ids) * len(metric_keys) > MAX_SERIES:
        raise ApiError(422, f"{len(run_ids)} runs x {len(metric_keys)} keys is over the limit of {MAX_SERIES} "
                            "series per request; ask for fewer keys at a time")
    service = WorkspaceService(_deps.history(request))
    return respond(request, {"runs": service.buckets(entity, project, run_ids, metric_keys, buckets,
                                                     min_step, max_step)})
