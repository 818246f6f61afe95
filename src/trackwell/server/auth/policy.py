"""The one place that says who may do what on which resource.

Every route declares one ``Action`` (``routers`` attach it with ``dependencies.require``); the
decision is ``decide(principal, action, target)``. Per-object checks the services make (whose keys
a caller may manage, which projects of an entity a caller may list) are functions here too.

Outcomes: ``ALLOW``; ``HIDDEN`` — answered exactly like a thing that does not exist (404), so a
private run's existence never leaks; ``FORBIDDEN`` (403) — the caller may see it but not do this;
``NO_ENTITY`` (404) — a write to an entity nobody has created, which only a server admin may do
(creating it as a team they administer: ``CREATE_ENTITY``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

ROLES = ("admin", "member", "viewer")
VISIBILITIES = ("private", "team", "public")
WRITER_ROLES = frozenset({"admin", "member"})


class Action(enum.Enum):
    """What a route does; ``writes`` marks the ones a read-only key may not do."""

    PUBLIC = ("public", False)  # no identity needed: health, login
    SIGNED_IN = ("signed_in", False)  # any identity: whoami, own teams and keys listed
    SELF_WRITE = ("self_write", True)  # any identity that may write: create a team, a key, revoke own key
    RUN_READ = ("run.read", False)  # a project and its runs: path {entity}/{project}
    RUN_WRITE = ("run.write", True)  # log, create, update, stop, rewind, fork, claim a writer
    PROJECT_ADMIN = ("project.admin", True)  # a project's visibility
    TEAM_READ = ("team.read", False)  # path {team}: its members
    TEAM_ADMIN = ("team.admin", True)  # membership, roles, service accounts
    ADMIN_READ = ("server.read", False)  # users, the audit log
    ADMIN_WRITE = ("server.write", True)  # create / deactivate users

    def __init__(self, label: str, writes: bool) -> None:
        self.label = label
        self.writes = writes


class Decision(enum.Enum):
    ALLOW = "allow"
    CREATE_ENTITY = "create_entity"  # allow, and create the entity first (a server admin's write)
    UNAUTHENTICATED = "unauthenticated"
    HIDDEN = "hidden"
    FORBIDDEN = "forbidden"
    NO_ENTITY = "no_entity"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (or service account) and how they proved it."""

    user_id: int
    name: str
    is_admin: bool = False
    kind: str = "user"
    teams: dict[str, str] = field(default_factory=dict)  # team -> role
    read_only: bool = False
    via: str = "key"  # "key" | "session" | "none" (--auth none: the server's admin)
    key_prefix: str | None = None

    def role_in(self, entity: str) -> str | None:
        """"owner" for the user's own entity, the team role for a team, else None."""
        return "owner" if entity == self.name else self.teams.get(entity)


@dataclass(frozen=True)
class Target:
    """The facts a decision needs: the entity (user or team) and, for runs, the project."""

    entity: str | None = None
    entity_kind: str | None = None  # "user" | "team" | None: does not exist
    visibility: str | None = None  # the project's; None: no such project (yet)


def decide(who: Principal | None, action: Action, target: Target = Target()) -> Decision:
    if action is Action.PUBLIC:
        return Decision.ALLOW
    if who is None:
        return Decision.UNAUTHENTICATED
    visible = _may_read(who, action, target)
    if action.writes and who.read_only:
        return Decision.FORBIDDEN if visible else Decision.HIDDEN
    allowed = _ALLOWED[action](who, target)
    if allowed:
        if action is Action.RUN_WRITE and target.entity_kind is None:
            return Decision.CREATE_ENTITY
        return Decision.ALLOW
    if action is Action.RUN_WRITE and target.entity_kind is None:
        return Decision.NO_ENTITY
    return Decision.FORBIDDEN if visible else Decision.HIDDEN


def _may_read(who: Principal, action: Action, target: Target) -> bool:
    """Whether the thing itself is visible to the caller (then a refusal is 403, not 404)."""
    if action in (Action.SIGNED_IN, Action.SELF_WRITE):
        return True
    if action in (Action.ADMIN_READ, Action.ADMIN_WRITE):
        return True  # the admin API's existence is no secret
    if action in (Action.TEAM_READ, Action.TEAM_ADMIN):
        return who.is_admin or (target.entity is not None and target.entity in who.teams)
    return can_read_project(who, target)


def can_read_project(who: Principal, target: Target) -> bool:
    if who.is_admin or target.entity is None:
        return who.is_admin
    return who.role_in(target.entity) is not None or target.visibility == "public"


def _write_project(who: Principal, target: Target) -> bool:
    if who.is_admin:
        return True
    if target.entity is None or target.entity_kind is None:
        return False
    role = who.role_in(target.entity)
    return role == "owner" or role in WRITER_ROLES


def _admin_project(who: Principal, target: Target) -> bool:
    if who.is_admin:
        return True
    return target.entity is not None and who.role_in(target.entity) in ("owner", "admin")


def _team_admin(who: Principal, target: Target) -> bool:
    return who.is_admin or (target.entity is not None and who.teams.get(target.entity) == "admin")


_ALLOWED = {
    Action.SIGNED_IN: lambda who, t: True,
    Action.SELF_WRITE: lambda who, t: True,
    Action.RUN_READ: can_read_project,
    Action.RUN_WRITE: _write_project,
    Action.PROJECT_ADMIN: _admin_project,
    Action.TEAM_READ: lambda who, t: who.is_admin or (t.entity is not None and t.entity in who.teams),
    Action.TEAM_ADMIN: _team_admin,
    Action.ADMIN_READ: lambda who, t: who.is_admin,
    Action.ADMIN_WRITE: lambda who, t: who.is_admin,
}
assert set(_ALLOWED) == set(Action) - {Action.PUBLIC}, "every action has a rule"


def can_manage_keys_of(who: Principal, owner_name: str, owner_kind: str, owner_team: str | None,
                       write: bool = True) -> bool:
    """Whose keys a caller may list (``write=False``), create and revoke: their own; a team admin
    their team's service accounts'; a server admin anyone's. A read-only key only lists."""
    if write and who.read_only:
        return False
    if who.is_admin or owner_name == who.name:
        return True
    return owner_kind == "service" and owner_team is not None and who.teams.get(owner_team) == "admin"
