"""Errors answered as JSON ``{"detail": ..., **extra}`` whatever the request accepted.

Client input echoed in a message goes through ``clip`` (at most ~200 characters, control
characters escaped), so an error never mirrors a megabyte key or forges a line in a log.
An error raised ``from`` an exception that carries ``api_fields`` (a refused record's index and
seq, see ``server.validation``) answers those fields too, so a client can act on them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

CLIP_CHARS = 200
_MAX_DETAIL_CHARS = 2000  # a safety net: every echo is clipped on its own already


class ApiError(Exception):
    def __init__(self, status_code: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.extra = extra


def clip(value: object, limit: int = CLIP_CHARS) -> str:
    """Client input for a message: a string as its ``repr``, anything else as ``str``, cut to
    ``limit`` characters with the full length named."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(value) if isinstance(value, str) else len(text)} characters)"


def run_not_found(entity: str, project: str, run_id: str) -> ApiError:
    path = f"{entity}/{project}/{run_id}"
    listing = f"{entity}/{project}" if len(entity) + len(project) <= CLIP_CHARS else "<entity>/<project>"
    return ApiError(404, f"run {clip(path)} not found; check the entity, project and run id "
                         f"(list runs with GET /api/v1/runs/{listing})")


def _cause_fields(exc: BaseException) -> dict[str, Any]:
    """``api_fields`` of the first exception in the ``raise ... from`` chain that has them."""
    seen: BaseException | None = exc
    while seen is not None:
        fields = getattr(seen, "api_fields", None)
        if isinstance(fields, dict):
            return fields
        seen = seen.__cause__
    return {}


def _body(detail: str, **extra: Any) -> dict[str, Any]:
    if len(detail) > _MAX_DETAIL_CHARS:
        detail = detail[:_MAX_DETAIL_CHARS] + f"... ({len(detail)} characters)"
    return {"detail": detail, **extra}


def answer(exc: ApiError) -> JSONResponse:
    headers = {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="trackwell"'
    if exc.status_code == 429 and "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    return JSONResponse(_body(exc.detail, **{**_cause_fields(exc), **exc.extra}), status_code=exc.status_code,
                        headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return answer(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse(_body(f"invalid request: {problems}"), status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # The client left (or was cut off by --body-timeout) mid-body: nobody reads this answer,
        # and it is no server error. 499 as nginx logs it.
        return JSONResponse(_body("client closed the connection before the request body arrived"), status_code=499)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Always a bug (Starlette re-raises it afterwards, so the server log has the traceback);
        # still JSON, so clients parse it like every other error.
        return JSONResponse(_body(f"internal server error ({type(exc).__name__}); the server log has the "
                                  "traceback, please report it"), status_code=500)
