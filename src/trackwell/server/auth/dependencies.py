"""How a route is held to the policy: ``Depends(require(Action.X))`` on every route.

The dependency authenticates the request (a bearer key; else a session cookie, whose state
changes must carry the session's CSRF token; else ``--auth none``'s admin), asks
``policy.decide`` about the path's entity/project (or team) and turns a refusal into its status.
The principal is returned (and kept on ``request.state.principal``) so the route can record who
acted. Projects (and an admin's
new entity) are created with their first run, in the run's transaction, not here: a refused or
failed request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from trackwell.server._errors import ApiError, clip, run_not_found
from trackwell.server.auth._secrets import same
from trackwell.server.auth.policy import Action, Decision, Principal, decide
from trackwell.server.services.identity import Identity

SESSION_COOKIE = "trackwell_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

NO_KEY = ("no API key: run `trackwell login` (or set TRACKWELL_API_KEY) with a key from `trackwell keys create`; "
          "a new server writes its admin's key for the user who started it")
BAD_KEY = "{why}: run `trackwell login` with a current key (or set TRACKWELL_API_KEY)"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request) -> str:
    """The client's address, after refusing it (429) while it is over its failed sign-ins."""
    address = client_address(request)
    wait = request.app.state.auth_failures.retry_after(address)
    if wait is not None:
        raise ApiError(429, f"too many failed sign-ins from {address}; try again in {wait:.0f} s",
                       error="rate_limited", retry_after=round(wait))
    return address


def unauthenticated(detail: str) -> ApiError:
    return ApiError(401, detail, error="unauthenticated")


class Requirement:
    """A route's dependency: the caller may do ``action`` (see ``policy``)."""

    def __init__(self, action: Action) -> None:
        self.action = action

    def __repr__(self) -> str:
        return f"require({self.action.name})"

    async def __call__(self, request: Request) -> Principal | None:
        identity: Identity = request.app.state.services.identity
        who = authenticate(request, identity, optional=self.action is Action.PUBLIC)
        request.state.principal = who
        if self.action is Action.PUBLIC:
            return who
        params = request.path_params
        entity = params.get("team", params.get("entity"))
        target = identity.target(entity, params.get("project"))
        decision = decide(who, self.action, target)
        if decision in (Decision.ALLOW, Decision.CREATE_ENTITY):
            return who  # a project (an admin's new entity) is made with its first run, in the store
        raise refusal(decision, self.action, who, params)


_REQUIREMENTS = {action: Requirement(action) for action in Action}


def require(action: Action) -> Requirement:
    return _REQUIREMENTS[action]


def authenticate(request: Request, identity: Identity, optional: bool = False) -> Principal | None:
    limiter = request.app.state.auth_failures
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, key = header.partition(" ")
        if optional:
            return None
        address = check_rate(request)
        if scheme.lower() != "bearer" or not key.strip():
            limiter.failed(address)
            raise unauthenticated("the Authorization header must be 'Bearer <API key>'")
        who, why = identity.from_key(key.strip())
        if who is None:
            limiter.failed(address)
            raise unauthenticated(BAD_KEY.format(why=why))
        return who
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = identity.from_session(token)
        if found is not None:
            who, csrf = found
            if request.method not in SAFE_METHODS and not optional:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not same(sent, csrf):
                    raise ApiError(403, f"missing or wrong {CSRF_HEADER} header: a browser session's state "
                                        "changes carry the token GET /api/v1/auth/session gives",
                                   error="csrf")
            return who
    if identity.auth == "none":
        return identity.anonymous()
    return None


def refusal(decision: Decision, action: Action, who: Principal | None, params: dict[str, Any]) -> ApiError:
    entity, project = params.get("entity"), params.get("project")
    if decision is Decision.UNAUTHENTICATED:
        return unauthenticated(NO_KEY)
    if decision is Decision.NO_ENTITY or (decision is Decision.HIDDEN and action is Action.RUN_WRITE):
        # the same answer whether the entity does not exist or is hidden from the caller
        mine = who.name if who else "your user name"
        return ApiError(404, f"no user or team named {clip(entity)} that you may write to: log to your own entity "
                             f"({mine}) or a team you belong to; a team is created with `trackwell teams create NAME`",
                        error="not_found")
    if decision is Decision.HIDDEN:
        if "run_id" in params:
            return run_not_found(str(entity), str(project), str(params["run_id"]))
        if "team" in params:
            return ApiError(404, f"no team named {clip(params['team'])} that you belong to", error="not_found")
        if project is not None:
            return ApiError(404, f"project {clip(f'{entity}/{project}')} not found", error="not_found")
        return ApiError(404, "not found", error="not_found")
    if who is not None and who.read_only and action.writes:
        return ApiError(403, "this API key is read-only; use a full key to change anything", error="forbidden")
    why = {
        Action.RUN_WRITE: f"you may read {clip(f'{entity}/{project}')} but not write to it: a team's viewers "
                          "and public readers cannot; ask a team admin for the member role",
        Action.PROJECT_ADMIN: "only the project's owner, its team's admins or a server admin may change it",
        Action.TEAM_ADMIN: "only the team's admins or a server admin may change its members",
        Action.ADMIN_READ: "only server admins may do this",
        Action.ADMIN_WRITE: "only server admins may do this",
    }.get(action, "you may not do this")
    return ApiError(403, why, error="forbidden")
