"""Users, teams, API keys, sessions, projects' visibility and the audit log.

The routes have been authorized by their ``Action`` already; what depends on the object (whose
key, which projects of an entity) is asked of ``policy`` here. Every change is audited by the store
in its own transaction and drops the identity caches.
"""

from __future__ import annotations

import re
import time
from typing import Any

from trackwell.server import validation
from trackwell.server.auth import policy
from trackwell.server.auth._secrets import check_password, digest, hash_password, new_key, new_token
from trackwell.server.auth.policy import Principal, Target
from trackwell.server.services._errors import Conflict, Forbidden, NotFound, Unauthenticated
from trackwell.server.services.identity import SESSION_SECONDS, Identity, principal
from trackwell.store.metadata import Account, AccountStore, NameTaken, NoSuchAccount

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_KEY_DAYS = 3650
LINK_SECONDS = 120.0


def check_name(name: str, what: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"{what} name {name[:80]!r} is not valid: 1-64 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit")
    return name


class AccountsService:
    def __init__(self, accounts: AccountStore, identity: Identity) -> None:
        self._accounts = accounts
        self.identity = identity

    def _changed(self) -> None:
        self.identity.invalidate()

    # -- who am I, sessions -----------------------------------------------------------------

    def whoami(self, who: Principal) -> dict[str, Any]:
        account = self._account(who.name)
        key = None
        if who.key_prefix is not None:
            row = self._accounts.key(who.key_prefix)
            key = None if row is None else {k: v for k, v in row.public().items() if k != "revoked"}
        return {"user": account.public(), "key": key, "default_entity": account.name, "auth": self.identity.auth,
                "teams": [{"name": t, "role": r} for t, r in sorted(account.teams.items())]}

    def login(self, *, api_key: str | None = None, username: str | None = None,
              password: str | None = None) -> tuple[str, Principal, str]:
        """(session token for the cookie, principal, CSRF token); ``Unauthenticated`` on bad credentials."""
        if api_key is not None:
            who, why = self.identity.from_key(api_key)
            if who is None:
                raise Unauthenticated(why)
            if who.read_only:
                raise Unauthenticated("a read-only API key cannot open a browser session; use a full key")
        else:
            account = self._accounts.account_named(username) if username and NAME.match(username) else None
            stored = self._accounts.password_hash(account.id) if account is not None else None
            if not check_password(password or "", stored) or account is None or not account.active:
                raise Unauthenticated("wrong user name or password")
            who = principal(account, via="session")
        token, csrf = new_token(), new_token()
        self._accounts.create_session(digest(token), who.user_id, csrf, time.time() + SESSION_SECONDS)
        return token, who, csrf

    def login_link(self, who: Principal) -> str:
        """A single-use sign-in token for a browser, valid ``LINK_SECONDS`` (`trackwell open`,
        `trackwell demo`): the CLI holds a key, the browser gets a session without typing it."""
        token = new_token()
        self._accounts.create_session(digest(token), who.user_id, new_token(), time.time() + LINK_SECONDS)
        return token

    def open_link(self, token: str) -> tuple[str, Principal, str]:
        """Trade a sign-in link's token (once) for a browser session; ``Unauthenticated`` if it is
        unknown, used or expired."""
        found = self.identity.from_session(token)
        self._accounts.delete_session(digest(token))
        if found is None:
            raise Unauthenticated("this sign-in link is unknown, used or expired; get a new one with `trackwell open`")
        who = found[0]
        session, csrf = new_token(), new_token()
        self._accounts.create_session(digest(session), who.user_id, csrf, time.time() + SESSION_SECONDS)
        return session, who, csrf

    def logout(self, token: str | None) -> None:
        if token:
            self._accounts.delete_session(digest(token))

    # -- users ------------------------------------------------------------------------------

    def create_user(self, who: Principal, name: str, *, email: str | None = None, display_name: str | None = None,
                    admin: bool = False, password: str | None = None) -> dict[str, Any]:
        check_name(name, "user")
        for value, what in ((email, "email"), (display_name, "display name")):
            if value is not None:
                validation.check_text(value, what, 256)
        account = self._create(lambda: self._accounts.create_user(
            name, actor=who.name, email=email, display_name=display_name, is_admin=admin,
            password_hash=hash_password(password) if password else None))
        return account.public()

    def list_users(self) -> list[dict[str, Any]]:
        return [a.public() | {"teams": a.teams} for a in self._accounts.list_users()]

    def set_active(self, who: Principal, name: str, active: bool) -> dict[str, Any]:
        if name == who.name and not active:
            raise ValueError("you cannot deactivate yourself; ask another admin")
        try:
            account = self._accounts.set_active(name, active, actor=who.name)
        except NoSuchAccount as exc:
            raise NotFound(str(exc)) from exc
        self._changed()
        return account.public()

    # -- teams ------------------------------------------------------------------------------

    def create_team(self, who: Principal, name: str) -> dict[str, Any]:
        check_name(name, "team")
        self._create(lambda: self._accounts.create_team(name, who.name, actor=who.name))
        return self.team(name)

    def teams_of(self, who: Principal) -> list[dict[str, Any]]:
        if who.is_admin:
            mine = self._account(who.name).teams
            return [{"name": t, "role": mine.get(t)} for t in self._accounts.teams()]
        return [{"name": t, "role": r} for t, r in sorted(self._account(who.name).teams.items())]

    def team(self, name: str) -> dict[str, Any]:
        try:
            return {"name": name, "members": self._accounts.team_members(name)}
        except NoSuchAccount as exc:
            raise NotFound(str(exc)) from exc

    def set_member(self, who: Principal, team: str, user: str, role: str) -> dict[str, Any]:
        if role not in policy.ROLES:
            raise ValueError(f"role {role[:40]!r} is not one of {', '.join(policy.ROLES)}")
        try:
            self._accounts.set_member(team, user, role, actor=who.name)
        except NoSuchAccount as exc:
            raise NotFound(str(exc)) from exc
        self._changed()
        return self.team(team)

    def remove_member(self, who: Principal, team: str, user: str) -> dict[str, Any]:
        try:
            removed = self._accounts.remove_member(team, user, actor=who.name)
        except NoSuchAccount as exc:
            raise NotFound(str(exc)) from exc
        if not removed:
            raise NotFound(f"{user} is not a member of team {team}")
        self._changed()
        return self.team(team)

    def create_service_account(self, who: Principal, team: str, name: str) -> dict[str, Any]:
        check_name(name, "service account")
        account = self._create(lambda: self._accounts.create_user(name, actor=who.name, kind="service", team=team))
        return account.public() | {"team": team}

    # -- keys -------------------------------------------------------------------------------

    def create_key(self, who: Principal, *, user: str | None = None, name: str | None = None,
                   read_only: bool = False, expires_in_days: float | None = None) -> dict[str, Any]:
        owner = self._key_owner(who, user or who.name)
        if expires_in_days is not None and not 0 < expires_in_days <= MAX_KEY_DAYS:
            raise ValueError(f"expires_in_days must be > 0 and <= {MAX_KEY_DAYS}")
        expires_at = None if expires_in_days is None else time.time() + expires_in_days * 86400
        key, prefix, key_digest = new_key()
        row = self._accounts.create_key(owner.name, prefix, key_digest, actor=who.name, name=name,
                                        read_only=read_only, expires_at=expires_at)
        return {"key": key, "user": owner.name, **row.public()}

    def list_keys(self, who: Principal, user: str | None = None) -> list[dict[str, Any]]:
        owner = self._key_owner(who, user or who.name, write=False)
        return [row.public() for row in self._accounts.keys_of(owner.name)]

    def revoke_key(self, who: Principal, prefix: str) -> dict[str, Any]:
        owner_name = self._accounts.key_user(prefix)
        try:
            if owner_name is None:
                raise NotFound(prefix)
            self._key_owner(who, owner_name)
        except NotFound:  # the same answer whether the key does not exist or is someone else's
            raise NotFound(f"no API key with prefix {prefix[:20]!r} among the keys you manage; list them with "
                           "GET /api/v1/keys") from None
        self._accounts.revoke_key(prefix, actor=who.name)
        self._changed()
        row = self._accounts.key(prefix)
        assert row is not None
        return row.public()

    def _key_owner(self, who: Principal, name: str, write: bool = True) -> Account:
        owner = self._accounts.account_named(name) if NAME.match(name) else None
        if owner is None or not policy.can_manage_keys_of(who, owner.name, owner.kind, owner.owner_team, write=write):
            if owner is not None and owner.name == who.name:  # a read-only key creating keys
                raise Forbidden("a read-only API key cannot create or revoke keys; use a full key")
            raise NotFound(f"no user {name[:80]!r} whose keys you manage")
        return owner

    # -- projects and audit -----------------------------------------------------------------

    def projects(self, who: Principal, entity: str) -> list[dict[str, Any]]:
        target = self.identity.target(entity)
        return [p for p in self._accounts.projects_of(entity)
                if policy.can_read_project(who, Target(entity, target.entity_kind, p["visibility"]))]

    def project(self, who: Principal, entity: str, name: str) -> dict[str, Any]:
        for p in self.projects(who, entity):
            if p["name"] == name:
                return p
        raise NotFound(f"project {entity[:80]}/{name[:80]} not found")

    def set_visibility(self, who: Principal, entity: str, name: str, visibility: str) -> dict[str, Any]:
        if visibility not in policy.VISIBILITIES:
            raise ValueError(f"visibility {visibility[:40]!r} is not one of {', '.join(policy.VISIBILITIES)}")
        try:
            self._accounts.set_visibility(entity, name, visibility, actor=who.name)
        except NoSuchAccount as exc:
            raise NotFound(f"project {entity[:80]}/{name[:80]} not found") from exc
        self._changed()
        return self.project(who, entity, name)

    def audit(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        return self._accounts.audit_entries(limit, before_id)

    # -- helpers ----------------------------------------------------------------------------

    def _account(self, name: str) -> Account:
        account = self._accounts.account_named(name)
        if account is None:
            raise NotFound(f"no user named {name[:80]!r}")
        return account

    def _create(self, make: Any) -> Any:
        try:
            made = make()
        except NoSuchAccount as exc:
            raise NotFound(str(exc)) from exc
        except NameTaken as exc:
            raise Conflict(str(exc)) from exc
        self._changed()
        return made
