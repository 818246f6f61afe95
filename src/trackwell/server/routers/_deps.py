"""Shared router helpers: the services on ``app.state``, checked parameters."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from trackwell.server import validation
from trackwell.server._errors import ApiError, answer, run_not_found
from trackwell.server.auth.policy import Principal
from trackwell.server.services import (
    AccountsService,
    ConsoleService,
    FilesService,
    Forbidden,
    HistoryService,
    IngestService,
    LifecycleService,
    NotFound,
    RunDeleted,
    RunEditService,
    RunNotFound,
    RunsService,
    Services,
    SweepService,
    SystemService,
    Unauthenticated,
)


def actor(who: Principal | None) -> str | None:
    """Who a write is recorded as made by."""
    return None if who is None else who.name


def accounts(request: Request) -> AccountsService:
    return services(request).accounts


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def runs(request: Request) -> RunsService:
    return services(request).runs


def edits(request: Request) -> RunEditService:
    return services(request).edits


def history(request: Request) -> HistoryService:
    return services(request).history


def console(request: Request) -> ConsoleService:
    return services(request).console


def sweeps(request: Request) -> SweepService:
    return services(request).sweeps


def system(request: Request) -> SystemService:
    return services(request).system


def lifecycle(request: Request) -> LifecycleService:
    return services(request).lifecycle


def ingest(request: Request) -> IngestService:
    return services(request).ingest


def files(request: Request) -> FilesService:
    found = services(request).files
    assert found is not None  # the app always opens a blob store
    return found


def install(app: FastAPI) -> None:
    """A service's ``RunNotFound``, from any route: 404 naming the run and how to list runs; a
    deleted run's ``RunDeleted`` (a write to it, a batch of its process): 410 saying so; its
    ``NotFound``, ``Forbidden``, ``Unauthenticated``: 404, 403, 401."""

    async def _run_not_found(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RunNotFound)
        return answer(run_not_found(exc.entity, exc.project, exc.run_id))

    app.add_exception_handler(RunNotFound, _run_not_found)

    async def _run_deleted(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RunDeleted)
        return answer(ApiError(410, str(exc), **exc.api_fields))

    app.add_exception_handler(RunDeleted, _run_deleted)

    async def _refused(_request: Request, exc: Exception) -> JSONResponse:
        status, error = {NotFound: (404, "not_found"), Forbidden: (403, "forbidden"),
                         Unauthenticated: (401, "unauthenticated")}[type(exc)]
        return answer(ApiError(status, str(exc), error=error))

    for kind in (NotFound, Forbidden, Unauthenticated):
        app.add_exception_handler(kind, _refused)


# Query integers are bound (422 naming the parameter) before they reach a store: int64 columns.
INT64_MIN, INT64_MAX = validation.INT64_MIN, validation.INT64_MAX
MAX_SELECTED_KEYS = 10_000


def checked_path(request: Request) -> None:
    """Router dependency: every path parameter (entity, project, run id, user, team, key prefix) is
    text a database can hold."""
    try:
        for name, value in request.path_params.items():
            if name == "file_name":  # a relative path: its own rules (``validation.check_file_name``)
                validation.check_file_name(value)
            else:
                validation.check_text(value, name.replace("_", " "), validation.MAX_PATH_CHARS)
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid path: {exc}") from None


def split_keys(keys: list[str] | None) -> list[str] | None:
    """The ``keys`` query parameter: ``keys=a,b`` (one value, split at commas), ``keys=a&keys=b``
    (each value one key, commas kept) or ``keys=["a,b","c"]`` (a JSON array); absent: every key."""
    if not keys or not any(keys):
        return None
    verbatim = len(keys) > 1
    if not verbatim and keys[0].startswith("["):
        try:
            parsed = json.loads(keys[0])
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list) and all(isinstance(k, str) for k in parsed):
            keys, verbatim = parsed, True
    if not verbatim:
        keys = [k.strip() for k in keys[0].split(",")]
    selected = [k for k in keys if k]
    if len(selected) > MAX_SELECTED_KEYS:
        raise ApiError(422, f"keys names {len(selected)} keys, over the limit of {MAX_SELECTED_KEYS}; "
                            "select fewer keys, or leave keys out to get every key")
    return selected


def check_new_run_path(request: Request, entity: str, project: str, run_id: str) -> None:
    """A route that may create a run (``PUT``, a fork): its path follows the SDK's naming rules
    (``validation.check_run_path``), else 422 naming them; a run that exists keeps its path."""
    try:
        validation.check_run_path(entity, project, run_id)
    except validation.InvalidValue as exc:
        try:
            runs(request).get(entity, project, run_id)
        except RunNotFound:
            raise ApiError(422, f"invalid run path: {exc}") from None
