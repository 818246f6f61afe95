"""Accounts on the metadata database: entities (users and teams), memberships, API keys, browser
sessions, projects and their visibility, and the audit log. Every administrative change writes
its audit row in the same transaction. Keys and sessions are stored as digests only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._apply import insert_for
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._tables import (
    api_keys,
    audit_log,
    entities,
    memberships,
    projects,
    runs,
    sessions,
    users,
)


class AccountError(ValueError):
    """A change the accounts cannot take (the message says why)."""


class NoSuchAccount(AccountError):
    """No user, team or project by that name."""


class NameTaken(AccountError):
    """The name belongs to a user or team already (one namespace for both)."""


@dataclass(frozen=True)
class Account:
    """A user as authorization sees it: their teams and roles included."""

    id: int
    name: str
    is_admin: bool
    kind: str
    active: bool
    email: str | None = None
    display_name: str | None = None
    teams: dict[str, str] = field(default_factory=dict)  # team name -> role
    owner_team: str | None = None  # a service account's team: the one whose admins manage it

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "display_name": self.display_name,
                "admin": self.is_admin, "kind": self.kind, "active": self.active}


@dataclass(frozen=True)
class KeyRow:
    prefix: str
    digest: str
    user_id: int
    name: str | None
    read_only: bool
    created_at: float
    last_used_at: float | None
    expires_at: float | None
    revoked_at: float | None

    def public(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "name": self.name, "read_only": self.read_only,
                "created_at": self.created_at, "last_used_at": self.last_used_at,
                "expires_at": self.expires_at, "revoked": self.revoked_at is not None}


_USER_COLUMNS = (users.c.id, entities.c.name, users.c.is_admin, users.c.kind, users.c.active, users.c.email,
                 users.c.display_name, users.c.team_id)
_USERS = users.join(entities, users.c.entity_id == entities.c.id)


class SqlAccountStore(Database):
    """``AccountStore`` on the metadata database."""

    # -- reads (the authentication path caches these) ---------------------------------------

    def account(self, user_id: int) -> Account | None:
        with self.engine.connect() as conn:
            return _account(conn, users.c.id == user_id)

    def account_named(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            return _account(conn, entities.c.name == name)

    def password_hash(self, user_id: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(users.c.password_hash).where(users.c.id == user_id)).scalar()

    def key(self, prefix: str) -> KeyRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_KEY_COLUMNS).where(api_keys.c.prefix == prefix)).first()
        return None if row is None else KeyRow(*row)

    def touch_key(self, prefix: str, now: float) -> None:
        with self.write() as conn:
            conn.execute(api_keys.update().where(api_keys.c.prefix == prefix).values(last_used_at=now))

    def entity_kind(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(entities.c.kind).where(entities.c.name == name)).scalar()

    def project_visibility(self, entity: str, project: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(projects.c.visibility).where(
                projects.c.entity == entity, projects.c.name == project)).scalar()

    def count_users(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def first_admin(self) -> Account | None:
        with self.engine.connect() as conn:
            return _account(conn, sa.and_(users.c.is_admin, users.c.active), order=users.c.id)

    # -- users, teams, memberships ----------------------------------------------------------

    def create_user(self, name: str, *, actor: str | None, email: str | None = None,
                    display_name: str | None = None, is_admin: bool = False, kind: str = "user",
                    team: str | None = None, password_hash: str | None = None) -> Account:
        now = time.time()
        with self.write() as conn:
            entity_id = _new_entity(conn, name, "user", now)
            team_id = _entity_id(conn, team, "team") if team else None
            user_id = conn.execute(users.insert().values(
                entity_id=entity_id, email=email, display_name=display_name, is_admin=is_admin, kind=kind,
                team_id=team_id, active=True, password_hash=password_hash, created_at=now
            ).returning(users.c.id)).scalar_one()
            if team_id is not None:  # a service account works for its team
                conn.execute(memberships.insert().values(team_id=team_id, user_id=user_id, role="member"))
            _audit(conn, actor, "user.create", name, {"admin": is_admin, "kind": kind, "team": team}, now)
            account = _account(conn, users.c.id == user_id)
        assert account is not None
        return account

    def list_users(self) -> list[Account]:
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(users.c.id).order_by(users.c.id)).scalars().all()
            return [a for i in ids if (a := _account(conn, users.c.id == i)) is not None]

    def set_active(self, name: str, active: bool, *, actor: str | None) -> Account:
        now = time.time()
        with self.write() as conn:
            user_id = _user_id(conn, name)
            conn.execute(users.update().where(users.c.id == user_id).values(active=active))
            if not active:
                conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
            _audit(conn, actor, "user.activate" if active else "user.deactivate", name, {}, now)
            account = _account(conn, users.c.id == user_id)
        assert account is not None
        return account

    def set_password(self, name: str, password_hash: str, *, actor: str | None) -> None:
        now = time.time()
        with self.write() as conn:
            user_id = _user_id(conn, name)
            conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))
            _audit(conn, actor, "user.set_password", name, {}, now)

    def create_team(self, name: str, admin_user: str, *, actor: str | None) -> None:
        now = time.time()
        with self.write() as conn:
            team_id = _new_entity(conn, name, "team", now)
            conn.execute(memberships.insert().values(team_id=team_id, user_id=_user_id(conn, admin_user), role="admin"))
            _audit(conn, actor, "team.create", name, {"admin": admin_user}, now)

    def teams(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(entities.c.name).where(entities.c.kind == "team")
                                     .order_by(entities.c.name)).scalars())

    def team_members(self, team: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            team_id = _entity_id(conn, team, "team")
            rows = conn.execute(sa.select(entities.c.name, memberships.c.role, users.c.kind, users.c.active)
                                .select_from(memberships.join(users, memberships.c.user_id == users.c.id)
                                             .join(entities, users.c.entity_id == entities.c.id))
                                .where(memberships.c.team_id == team_id).order_by(entities.c.name)).all()
        return [{"user": n, "role": r, "kind": k, "active": a} for n, r, k, a in rows]

    def set_member(self, team: str, user: str, role: str, *, actor: str | None) -> None:
        now = time.time()
        with self.write() as conn:
            team_id, user_id = _entity_id(conn, team, "team"), _user_id(conn, user)
            own = conn.execute(sa.select(users.c.team_id).where(users.c.id == user_id)).scalar()
            if own is not None and own != team_id:  # a service account works for its own team only
                raise AccountError(f"{user} is a service account of another team; it cannot join team {team}")
            where = sa.and_(memberships.c.team_id == team_id, memberships.c.user_id == user_id)
            before = conn.execute(sa.select(memberships.c.role).where(where)).scalar()
            if before is None:
                conn.execute(memberships.insert().values(team_id=team_id, user_id=user_id, role=role))
            else:
                conn.execute(memberships.update().where(where).values(role=role))
            _audit(conn, actor, "team.set_role", f"{team}/{user}", {"role": role, "previous": before}, now)

    def remove_member(self, team: str, user: str, *, actor: str | None) -> bool:
        now = time.time()
        with self.write() as conn:
            team_id, user_id = _entity_id(conn, team, "team"), _user_id(conn, user)
            gone = conn.execute(memberships.delete().where(
                memberships.c.team_id == team_id, memberships.c.user_id == user_id)).rowcount
            if gone:
                _audit(conn, actor, "team.remove_member", f"{team}/{user}", {}, now)
        return bool(gone)

    # -- keys and sessions ------------------------------------------------------------------

    def create_key(self, user: str, prefix: str, digest: str, *, actor: str | None, name: str | None = None,
                   read_only: bool = False, expires_at: float | None = None) -> KeyRow:
        now = time.time()
        with self.write() as conn:
            conn.execute(api_keys.insert().values(prefix=prefix, digest=digest, user_id=_user_id(conn, user),
                                                  name=name, read_only=read_only, created_at=now,
                                                  expires_at=expires_at))
            _audit(conn, actor, "key.create", user, {"prefix": prefix, "name": name, "read_only": read_only,
                                                     "expires_at": expires_at}, now)
        key = self.key(prefix)
        assert key is not None
        return key

    def keys_of(self, user: str) -> list[KeyRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*_KEY_COLUMNS).where(api_keys.c.user_id == _user_id(conn, user))
                                .order_by(api_keys.c.id)).all()
        return [KeyRow(*r) for r in rows]

    def key_user(self, prefix: str) -> str | None:
        """The name of the user a key belongs to."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(entities.c.name).select_from(
                api_keys.join(users, api_keys.c.user_id == users.c.id).join(entities, users.c.entity_id == entities.c.id)
            ).where(api_keys.c.prefix == prefix)).scalar()

    def revoke_key(self, prefix: str, *, actor: str | None) -> None:
        now = time.time()
        with self.write() as conn:
            conn.execute(api_keys.update().where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
                         .values(revoked_at=now))
            _audit(conn, actor, "key.revoke", prefix, {}, now)

    def create_session(self, digest: str, user_id: int, csrf_token: str, expires_at: float) -> None:
        with self.write() as conn:
            conn.execute(sessions.insert().values(digest=digest, user_id=user_id, csrf_token=csrf_token,
                                                  created_at=time.time(), expires_at=expires_at))

    def session(self, digest: str) -> tuple[int, str, float] | None:
        """(user id, CSRF token, expiry) of a session."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sessions.c.user_id, sessions.c.csrf_token, sessions.c.expires_at)
                               .where(sessions.c.digest == digest)).first()
        return None if row is None else (int(row[0]), str(row[1]), float(row[2]))

    def delete_session(self, digest: str) -> None:
        with self.write() as conn:
            conn.execute(sessions.delete().where(sessions.c.digest == digest))

    # -- projects and the audit log ---------------------------------------------------------

    def set_visibility(self, entity: str, project: str, visibility: str, *, actor: str | None) -> None:
        now = time.time()
        with self.write() as conn:
            done = conn.execute(projects.update().where(projects.c.entity == entity, projects.c.name == project)
                                .values(visibility=visibility)).rowcount
            if not done:
                raise NoSuchAccount(f"project {entity}/{project} does not exist")
            _audit(conn, actor, "project.set_visibility", f"{entity}/{project}", {"visibility": visibility}, now)

    def projects_of(self, entity: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            counts = (sa.select(runs.c.project, sa.func.count().label("runs")).where(runs.c.entity == entity)
                      .group_by(runs.c.project).subquery())
            rows = conn.execute(sa.select(projects.c.name, projects.c.visibility, projects.c.created_by,
                                          projects.c.created_at, counts.c.runs)
                                .select_from(projects.outerjoin(counts, counts.c.project == projects.c.name))
                                .where(projects.c.entity == entity).order_by(projects.c.name)).all()
        return [{"entity": entity, "name": n, "visibility": v, "created_by": c, "created_at": t, "runs": r or 0}
                for n, v, c, t, r in rows]

    def audit_entries(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def adopt_orphans(self, admin: str) -> int:
        """Give runs written before accounts existed an owner: each entity they name becomes a team
        ``admin`` administers, each project a team project; returns how many entities were adopted."""
        now = time.time()
        with self.write() as conn:
            admin_id = _user_id(conn, admin)
            known = set(conn.execute(sa.select(entities.c.name)).scalars())
            orphans = [e for e in conn.execute(sa.select(runs.c.entity).distinct()).scalars() if e not in known]
            for name in orphans:
                team_id = _new_entity(conn, name, "team", now)
                conn.execute(memberships.insert().values(team_id=team_id, user_id=admin_id, role="admin"))
            have = set(conn.execute(sa.select(projects.c.entity, projects.c.name)).tuples())
            for entity, project in conn.execute(sa.select(runs.c.entity, runs.c.project).distinct()).tuples():
                if (entity, project) not in have:
                    conn.execute(projects.insert().values(entity=entity, name=project, visibility="team",
                                                          created_by=admin, created_at=now))
            conn.execute(runs.update().where(runs.c.created_by.is_(None)).values(created_by=admin))
            if orphans:
                _audit(conn, admin, "bootstrap.adopt", "runs", {"entities": orphans[:100], "count": len(orphans)}, now)
        return len(orphans)


_KEY_COLUMNS = (api_keys.c.prefix, api_keys.c.digest, api_keys.c.user_id, api_keys.c.name, api_keys.c.read_only,
                api_keys.c.created_at, api_keys.c.last_used_at, api_keys.c.expires_at, api_keys.c.revoked_at)


def _account(conn: sa.Connection, where: Any, order: Any = None) -> Account | None:
    q = sa.select(*_USER_COLUMNS).select_from(_USERS).where(where)
    row = conn.execute(q.order_by(order).limit(1) if order is not None else q).first()
    if row is None:
        return None
    teams = {name: role for name, role in conn.execute(sa.select(entities.c.name, memberships.c.role).select_from(
        memberships.join(entities, memberships.c.team_id == entities.c.id)).where(memberships.c.user_id == row.id))}
    owner_team = None
    if row.team_id is not None:
        owner_team = conn.execute(sa.select(entities.c.name).where(entities.c.id == row.team_id)).scalar()
    return Account(row.id, row.name, bool(row.is_admin), row.kind, bool(row.active), row.email, row.display_name,
                   teams, owner_team)


def _new_entity(conn: sa.Connection, name: str, kind: str, now: float) -> int:
    taken = conn.execute(sa.select(entities.c.kind).where(entities.c.name == name)).scalar()
    if taken is not None:
        raise NameTaken(f"the name {name!r} is taken (by a {taken}); user and team names share one namespace")
    try:
        return int(conn.execute(entities.insert().values(name=name, kind=kind, created_at=now)
                                .returning(entities.c.id)).scalar_one())
    except sa.exc.IntegrityError:  # taken concurrently (another request or server process)
        raise NameTaken(f"the name {name!r} is taken; user and team names share one namespace") from None


def _entity_id(conn: sa.Connection, name: str, kind: str) -> int:
    found = conn.execute(sa.select(entities.c.id).where(entities.c.name == name, entities.c.kind == kind)).scalar()
    if found is None:
        raise NoSuchAccount(f"no {kind} named {name!r}")
    return int(found)


def _user_id(conn: sa.Connection, name: str) -> int:
    found = conn.execute(sa.select(users.c.id).select_from(_USERS).where(entities.c.name == name)).scalar()
    if found is None:
        raise NoSuchAccount(f"no user named {name!r}")
    return int(found)


def _audit(conn: sa.Connection, actor: str | None, action: str, target: str, detail: dict[str, Any], now: float) -> None:
    conn.execute(audit_log.insert().values(at=now, actor=actor, action=action, target=target, detail=detail))


def ensure_project(conn: sa.Connection, entity: str, project: str, created_by: str | None, now: float) -> None:
    """With a run's creation (same transaction): its project, and its entity if nobody made it yet —
    a team administered by ``created_by`` (the policy lets only a server admin get here). A new
    project is "private" under a user, "team" under a team."""
    kind = conn.execute(sa.select(entities.c.kind).where(entities.c.name == entity)).scalar()
    if kind is None:
        conn.execute(insert_for(conn, entities).values(name=entity, kind="team", created_at=now)
                     .on_conflict_do_nothing(index_elements=[entities.c.name]))
        kind = "team"
        team_id = conn.execute(sa.select(entities.c.id).where(entities.c.name == entity)).scalar_one()
        admin = conn.execute(sa.select(users.c.id).select_from(_USERS).where(entities.c.name == created_by)).scalar()
        if admin is not None:
            conn.execute(insert_for(conn, memberships).values(team_id=team_id, user_id=admin, role="admin")
                         .on_conflict_do_nothing(index_elements=[memberships.c.team_id, memberships.c.user_id]))
        _audit(conn, created_by, "team.create", entity, {"admin": created_by, "implicit": True}, now)
    conn.execute(insert_for(conn, projects).values(
        entity=entity, name=project, visibility="private" if kind == "user" else "team", created_by=created_by,
        created_at=now).on_conflict_do_nothing(index_elements=[projects.c.entity, projects.c.name]))
