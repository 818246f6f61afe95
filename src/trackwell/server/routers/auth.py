"""Sign-in: who am I, and browser sessions (a cookie, with a CSRF token for state changes)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from trackwell.server._encoding import request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import (
    SESSION_COOKIE,
    check_rate,
    require,
    unauthenticated,
)
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.routers._bodies import body_of
from trackwell.server.services import Unauthenticated
from trackwell.server.services.accounts import LINK_SECONDS
from trackwell.server.services.identity import SESSION_SECONDS

router = APIRouter(prefix="/auth")
_SIGNED_IN = Depends(require(Action.SIGNED_IN))
_SELF_WRITE = Depends(require(Action.SELF_WRITE))
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class Login(msgspec.Struct, forbid_unknown_fields=True):
    api_key: Text | None = None
    username: Text | None = None
    password: Annotated[str, msgspec.Meta(max_length=1024)] | None = None


@router.get("/whoami")
async def whoami(request: Request, who: Principal = _SIGNED_IN) -> Response:
    return respond(request, await run_in_threadpool(_deps.accounts(request).whoami, who))


@router.post("/login", openapi_extra=request_body(Login), dependencies=[Depends(require(Action.PUBLIC))])
async def login(request: Request) -> Response:
    body = await body_of(request, Login, '{"api_key": "tw_..."} or {"username": ..., "password": ...}')
    if (body.api_key is None) == (body.username is None):
        raise ApiError(422, "send either api_key, or username and password")
    limiter, address = request.app.state.auth_failures, check_rate(request)
    try:
        token, who, csrf = await run_in_threadpool(_deps.accounts(request).login, api_key=body.api_key,
                                                   username=body.username, password=body.password)
    except Unauthenticated as exc:
        limiter.failed(address)
        raise unauthenticated(str(exc)) from exc
    response = respond(request, {"user": who.name, "csrf_token": csrf})
    _set_session(request, response, token)
    return response


@router.post("/links")
async def create_login_link(request: Request, who: Principal = _SELF_WRITE) -> Response:
    """A single-use link that signs a browser in as the caller (2 minutes): ``trackwell open``."""
    token = await run_in_threadpool(_deps.accounts(request).login_link, who)
    return respond(request, {"path": f"/api/v1/auth/link?token={token}", "expires_in": LINK_SECONDS})


@router.get("/link", dependencies=[Depends(require(Action.PUBLIC))])
async def open_login_link(request: Request, token: str = Query(..., max_length=128),
                          next: str = Query("/", max_length=2048)) -> Response:
    """Trade the link's token for a session cookie and go to ``next`` (a path on this server)."""
    if not next.startswith("/") or next.startswith("//") or "\\" in next:
        next = "/"  # never an open redirect
    try:
        session, _who, _csrf = await run_in_threadpool(_deps.accounts(request).open_link, token)
    except Unauthenticated:
        return RedirectResponse("/login?expired=1", status_code=303)
    response = RedirectResponse(next, status_code=303)
    _set_session(request, response, session)
    return response


def _set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_SECONDS), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


@router.post("/logout", dependencies=[Depends(require(Action.SIGNED_IN))])
async def logout(request: Request) -> Response:
    await run_in_threadpool(_deps.accounts(request).logout, request.cookies.get(SESSION_COOKIE))
    response = respond(request, {"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/session")
async def session(request: Request, who: Principal = _SIGNED_IN) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    found = _deps.services(request).identity.from_session(token) if token else None
    if found is None:
        raise unauthenticated("no browser session: POST /api/v1/auth/login first")
    return respond(request, {"user": who.name, "csrf_token": found[1]})
