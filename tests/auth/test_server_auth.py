"""The server's accounts against real servers on SQLite and PostgreSQL: bootstrap (the admin's key
in a 0600 credentials file, never in the log, made once), who made each change (runs' creator,
events' actor, the audit log), keys stored as digests only, revocation and deactivation at once.
The browser guards, --auth none and the rate limit: test_server_guards.py; runs from before
accounts existed: test_server_adoption.py."""

from __future__ import annotations

import hashlib
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from matrix_world import World, build_world
from server_support import BACKENDS, Served, admin_key, bearer, fresh_server
from servers import start_server

from trackwell import _credentials

BOOTSTRAP_LINE = "created the first admin user"


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with fresh_server(request, request.param, tmp_path_factory.mktemp("accounts")) as running:
        yield running


@pytest.fixture(scope="module")
def world(served: Served) -> Iterator[World]:
    """The matrix's users, teams, projects and keys (see matrix_world) on this module's server."""
    built = build_world(served.live.url, admin_key(served.live))
    yield built
    built.client.close()


def rows(served: Served, query: str) -> list[Any]:
    engine = sa.create_engine(served.database)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)))
    finally:
        engine.dispose()


def secret(key: str) -> str:
    return key.split("_", 2)[2]


def every_key(world: World) -> list[str]:
    """Every key the world's server made (its callers' keys, revoked and expired ones too)."""
    keys = [c.headers["Authorization"].split(" ", 1)[1] for c in world.callers
            if c.headers.get("Authorization", "").startswith("Bearer tw_") and c.name != "garbage-key"]
    return [*keys, world.login_key]


def test_bootstrap_saves_the_admins_key_0600_and_never_prints_it(served: Served, world: World) -> None:
    path = _credentials.path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = admin_key(served.live)
    me = world.call("GET", "/auth/whoami", bearer(key)).json()
    assert me["user"]["admin"] and me["key"]["name"] == "bootstrap"
    log = served.live.log()
    lines = [line for line in log.splitlines() if BOOTSTRAP_LINE in line]
    assert len(lines) == 1 and str(path) in lines[0], log[-2000:]
    assert key not in log and secret(key) not in log  # nor its secret part


def test_a_second_start_on_the_same_database_does_not_bootstrap(served: Served, world: World,
                                                                tmp_path: Path) -> None:
    # the metrics file is the first server's (DuckDB: one process); the metadata database is shared
    again = start_server(served.live.data_dir, *served.args, "--metrics-db", str(tmp_path / "metrics.duckdb"))
    try:
        assert BOOTSTRAP_LINE not in again.log(), again.log()[-2000:]
        stored = _credentials.load(again.url)  # the server saved none: the first admin's key, as a login would
        assert stored is not None and stored.api_key == admin_key(served.live)
        users = world.call("GET", "/users", bearer(stored.api_key)).json()["users"]
        assert [u["name"] for u in users if u["admin"]] == [world.admin]
    finally:
        again.stop()


def test_runs_and_their_events_record_who_made_them(served: Served, world: World) -> None:
    alice = next(c for c in world.callers if c.name == "alice")
    run_id = world.write_run("alice", "priv", headers=alice.headers)
    path = f"/runs/alice/priv/{run_id}"
    assert world.call("POST", f"/runs/alice/priv/forked-{run_id}/fork", world.admin_headers,
                      json={"source": run_id, "step": 2}).status_code == 200
    assert world.call("POST", f"{path}/rewind", alice.headers, json={"step": 3}).status_code == 200  # past the fork
    assert world.call("POST", f"{path}/stop", world.admin_headers).status_code == 200
    assert rows(served, f"SELECT created_by FROM runs WHERE run_id = '{run_id}'") == [("alice",)]
    assert rows(served, f"SELECT created_by FROM runs WHERE run_id = 'forked-{run_id}'") == [(world.admin,)]
    events = world.as_admin("GET", f"{path}/events")["events"]
    by_someone = {e["kind"]: e["actor"] for e in events if e["actor"] is not None}  # None: the server's own
    assert by_someone == {"run_created": "alice", "run_rewound": "alice", "run_killed": world.admin}, events
    forked = world.as_admin("GET", f"/runs/alice/priv/forked-{run_id}/events")["events"]
    assert {e["kind"]: e["actor"] for e in forked if e["actor"]} == {"run_created": world.admin,
                                                                   "run_forked": world.admin}, forked


def test_administrative_changes_are_audited(world: World) -> None:
    alice = next(c for c in world.callers if c.name == "alice").headers
    user, team = f"a-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    world.as_admin("POST", "/users", json={"name": user})
    assert world.call("POST", "/teams", alice, json={"name": team}).status_code == 200
    assert world.call("PUT", f"/teams/{team}/members/{user}", alice, json={"role": "member"}).status_code == 200
    assert world.call("DELETE", f"/teams/{team}/members/{user}", alice).status_code == 200
    _, prefix = world.fresh_key(user)
    assert world.call("DELETE", f"/keys/{prefix}", world.admin_headers).status_code == 200
    assert world.call("PATCH", "/projects/alice/priv", alice, json={"visibility": "team"}).status_code == 200
    world.as_admin("POST", f"/users/{user}/deactivate")
    entries = world.as_admin("GET", "/audit", params={"limit": "20"})["entries"]
    seen = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    expected = [(world.admin, "user.create", user), ("alice", "team.create", team),
                ("alice", "team.set_role", f"{team}/{user}"), ("alice", "team.remove_member", f"{team}/{user}"),
                (world.admin, "key.create", user), (world.admin, "key.revoke", prefix),
                ("alice", "project.set_visibility", "alice/priv"), (world.admin, "user.deactivate", user)]
    assert [s for s in seen if s in expected] == expected, seen
    assert entries[0]["action"] == "user.deactivate"  # newest first
    assert world.call("GET", "/audit", alice).status_code == 403


def test_keys_are_stored_as_digests_only(served: Served, world: World) -> None:
    engine = sa.create_engine(served.database)
    tables = sa.inspect(engine).get_table_names()
    engine.dispose()
    assert {"api_keys", "sessions", "audit_log"} <= set(tables)
    dump = "\n".join(repr(tuple(r)) for table in tables for r in rows(served, f'SELECT * FROM "{table}"'))
    keys = every_key(world)
    assert len(keys) > 5
    for key in keys:
        assert key not in dump and secret(key) not in dump
    digests = {d for (d,) in rows(served, "SELECT digest FROM api_keys")}
    assert {hashlib.sha256(k.encode()).hexdigest() for k in keys} <= digests


def test_a_revoked_key_and_a_deactivated_users_key_stop_working_at_once(world: World) -> None:
    user = world.fresh_user("lab")
    key, prefix = world.fresh_key(user)
    other, _ = world.fresh_key(user)
    assert world.call("GET", "/runs/lab/shared", bearer(key)).status_code == 200  # cached as good now
    assert world.call("DELETE", f"/keys/{prefix}", bearer(key)).status_code == 200  # revokes itself
    refused = world.call("GET", "/runs/lab/shared", bearer(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert world.call("GET", "/runs/lab/shared", bearer(other)).status_code == 200
    world.as_admin("POST", f"/users/{user}/deactivate")
    refused = world.call("GET", "/runs/lab/shared", bearer(other))
    assert refused.status_code == 401 and "deactivated" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].lower().startswith("bearer")
    world.as_admin("POST", f"/users/{user}/activate")
    assert world.call("GET", "/runs/lab/shared", bearer(other)).status_code == 200


def test_a_read_only_key_cannot_open_a_browser_session(world: World) -> None:
    key, _ = world.fresh_key("alice", read_only=True)
    response = world.call("POST", "/auth/login", {}, json={"api_key": key})
    assert response.status_code == 401 and "trackwell_session" not in response.headers.get("set-cookie", "")


def test_only_its_own_teams_admins_manage_a_service_accounts_keys(world: World) -> None:
    """mallory (admin of ops) cannot take a service account of alice's newer team into ops, nor make
    its keys, even after alice took it out of her team and back (the server once took the account's
    first membership row for its team: an older team's came first)."""
    alice = next(c for c in world.callers if c.name == "alice").headers
    mallory = next(c for c in world.callers if c.name == "mallory").headers
    team, svc = f"lab-{uuid.uuid4().hex[:8]}", f"ci-{uuid.uuid4().hex[:8]}"
    assert world.call("POST", "/teams", alice, json={"name": team}).status_code == 200
    assert world.call("POST", f"/teams/{team}/service-accounts", alice, json={"name": svc}).status_code == 200
    assert world.call("DELETE", f"/teams/{team}/members/{svc}", alice).status_code == 200
    taken = world.call("PUT", f"/teams/ops/members/{svc}", mallory, json={"role": "viewer"})
    assert taken.status_code == 422 and "service account" in taken.json()["detail"], taken.text[:300]
    assert world.call("PUT", f"/teams/{team}/members/{svc}", alice, json={"role": "member"}).status_code == 200
    assert svc not in {m["user"] for m in world.as_admin("GET", "/teams/ops")["members"]}
    minted = world.call("POST", "/keys", mallory, json={"user": svc})
    assert minted.status_code == 404, f"mallory made a key of {team}'s service account: {minted.text[:200]}"
    assert world.call("POST", "/keys", alice, json={"user": svc}).status_code == 200


def test_a_write_that_fails_leaves_no_project_or_entity_behind(world: World) -> None:
    alice = next(c for c in world.callers if c.name == "alice").headers
    project, entity = f"p-{uuid.uuid4().hex[:8]}", f"e-{uuid.uuid4().hex[:8]}"
    assert world.call("POST", f"/runs/alice/{project}/nope/stop", alice).status_code == 404
    assert world.call("POST", f"/runs/{entity}/p/nope/stop", world.admin_headers).status_code == 404
    assert project not in {p["name"] for p in world.as_admin("GET", "/projects/alice")["projects"]}
    assert world.as_admin("GET", f"/projects/{entity}")["projects"] == []
    assert entity not in {t["name"] for t in world.as_admin("GET", "/teams")["teams"]}


def test_no_key_ever_appears_in_the_server_log(served: Served, world: World) -> None:
    """Last in this module: every key made here (and the bootstrap's) went through this server."""
    log = served.live.log()
    assert log.count(" 401 ") > 0  # the log is the request log, and refused keys were tried
    for key in [*every_key(world), admin_key(served.live)]:
        assert key not in log and secret(key) not in log
