"""The authorization matrix's expectations, one rule per route: the targets it is tried on, the
status each caller should get, and the request whose 2xx means the action really happened.

The statuses are written from docs/auth.md's table over explicit facts (who reads, writes and
administers what, below); never from ``server/auth/policy.py``, which they check.
A route with no rule here fails the matrix: a new endpoint needs its expectations first.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matrix_world import MSGPACK, PROJECTS, Caller, World

from trackwell.schema import Batch, Console, FileSaved, History, RunStart, encode

# -- the facts (the server admin may do everything besides) ------------------------------------

LAB = frozenset({"alice", "bob", "vera", "svc"})  # lab's members, every role (of the callers)
EVERYONE = LAB | {"mallory"}
READERS = {"priv": {"alice"}, "shared": LAB, "pub": EVERYONE, "ops": {"mallory"}}
WRITERS = {"priv": {"alice"}, "shared": {"alice", "bob", "svc"}, "pub": {"alice"}, "ops": {"mallory"}}
PROJECT_ADMINS = {"priv": {"alice"}, "shared": {"alice"}, "pub": {"alice"}, "ops": {"mallory"}}
ENTITY_MEMBERS = {"alice": {"alice"}, "lab": LAB, "ops": {"mallory"}}  # who has a role in the entity
TEAM_MEMBERS = {"lab": LAB, "ops": {"mallory"}, "no-team": set()}
TEAM_ADMINS = {"lab": {"alice"}, "ops": {"mallory"}, "no-team": set()}
KEY_MANAGERS = {"svc": {"alice", "svc"}, "victim": set()}  # besides the server admin

RUNS = ("priv", "shared", "pub", "ops")
RUN_READ_TARGETS = (*RUNS, "missing-run", "no-entity")
RUN_WRITE_TARGETS = (*RUNS, "no-entity")
PROJECT_TARGETS = (*RUNS, "missing-project", "no-entity")
TEAM_TARGETS = ("lab", "ops", "no-team")
NONE = ("-",)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)  # added to (or replacing) the caller's
    api: bool = True  # under /api/v1 (the run pages are not)


@dataclass(frozen=True)
class Rule:
    targets: tuple[str, ...]
    expect: Callable[[Caller, str], int]
    call: Callable[[World, Caller, str, bool], Call]  # (world, caller, target, should succeed)
    check: Callable[[World, Caller, str, Any], list[str]] | None = None  # a 200's body: leaks in it


# -- expected statuses ----------------------------------------------------------------------

def refused_change(c: Caller) -> int | None:
    """Any state change: no identity 401; a browser session without its CSRF token 403."""
    if c.user is None:
        return 401
    if c.session and not c.csrf:
        return 403
    return None


def signed_in(c: Caller, t: str) -> int:
    return 401 if c.user is None else 200


def public(status: int) -> Callable[[Caller, str], int]:
    return lambda c, t: status


def read_run(c: Caller, t: str) -> int:
    if c.user is None:
        return 401
    if t not in RUNS:
        return 404
    return 200 if c.admin or c.user in READERS[t] else 404


def list_runs(c: Caller, t: str) -> int:
    """A project's run list: a project nobody wrote to yet is empty to whoever may see its entity."""
    if c.user is None:
        return 401
    if c.admin:
        return 200
    if t == "missing-project":
        return 200 if c.user in ENTITY_MEMBERS["alice"] else 404
    return 200 if t in RUNS and c.user in READERS[t] else 404


def show_project(c: Caller, t: str) -> int:
    return read_run(c, t)


def write_run(creates: bool) -> Callable[[Caller, str], int]:
    """``creates``: the call makes a new run (else it needs one, so an admin's to no entity is 404)."""
    def expect(c: Caller, t: str) -> int:
        if (refused := refused_change(c)) is not None:
            return refused
        visible = c.admin or (t in RUNS and c.user in READERS[t])
        may = c.admin or (t in RUNS and c.user in WRITERS[t])
        if c.read_only or not may:
            return 403 if visible else 404
        return 200 if t in RUNS or creates else 404
    return expect


def change_visibility(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    visible = c.admin or (t in RUNS and c.user in READERS[t])
    may = c.admin or (t in RUNS and c.user in PROJECT_ADMINS[t])
    if c.read_only or not may:
        return 403 if visible else 404
    return 200 if t in RUNS else 404


def read_team(c: Caller, t: str) -> int:
    if c.user is None:
        return 401
    return 200 if t != "no-team" and (c.admin or c.user in TEAM_MEMBERS[t]) else 404


def admin_team(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    visible = c.admin or c.user in TEAM_MEMBERS[t]
    if c.read_only or not (c.admin or c.user in TEAM_ADMINS[t]):
        return 403 if visible else 404
    return 404 if t == "no-team" else 200


def server_read(c: Caller, t: str) -> int:
    return 401 if c.user is None else 200 if c.admin else 403


def server_write(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    return 200 if c.admin and not c.read_only else 403


def self_write(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    return 403 if c.read_only else 200


def manages_keys(c: Caller, owner: str) -> bool:
    return c.admin or owner == "own" or owner == c.user or c.user in KEY_MANAGERS[owner]


def list_keys(c: Caller, t: str) -> int:
    if c.user is None:
        return 401
    return 200 if manages_keys(c, t) else 404


def change_keys(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    if c.read_only:
        return 403
    return 200 if t != "no-key" and manages_keys(c, t) else 404


def logout(c: Caller, t: str) -> int:
    return refused_change(c) or 200


def session(c: Caller, t: str) -> int:
    return 200 if c.session else 401


def sees(c: Caller, t: str) -> bool:
    """Whether the caller may know target ``t`` exists (else its 404 must read like a missing one's)."""
    if c.admin or t in ("own", "-"):
        return True
    if t in RUNS:
        return c.user in READERS[t]
    if t in ("missing-run", "missing-project"):
        return c.user in ENTITY_MEMBERS["alice"]
    if t in TEAM_MEMBERS:
        return c.user in TEAM_MEMBERS[t]
    if t in KEY_MANAGERS:
        return manages_keys(c, t)
    return False  # no-entity, no-key: nothing there


# -- the calls ------------------------------------------------------------------------------

def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_of(w: World, t: str, new: bool = False) -> str:
    """``entity/project/run`` for target ``t``: its base run, a fresh one (``new``: for a call that
    changes it), or one that does not exist."""
    if t == "missing-run":
        return "alice/priv/no-such-run"
    if t == "no-entity":
        return f"{fresh('ghost')}/p/r"
    entity, project = PROJECTS[t]
    return f"{entity}/{project}/{w.write_run(entity, project) if new else w.base_runs[t]}"


def project_of(t: str) -> str:
    if t == "missing-project":
        return "alice/no-such-project"
    if t == "no-entity":
        return f"{fresh('ghost')}/p"
    return "/".join(PROJECTS[t])


def new_run_in(t: str) -> str:
    """A run id not yet taken in target ``t``'s project (the call creates it)."""
    return f"{project_of(t)}/{fresh('new')}"


def get(suffix: str = "", **params: str) -> Callable[[World, Caller, str, bool], Call]:
    return lambda w, c, t, ok: Call("GET", f"/runs/{run_of(w, t)}{suffix}", params=params or None)


def records_batch(path: str) -> bytes:
    entity, project, run_id = path.split("/")
    records = [RunStart(seq=1, ts=0.0, entity=entity, project=project, run_id=run_id),
               History(seq=2, ts=0.0, step=0, runtime=0.0, data={"loss": 1.0}),
               Console(seq=3, ts=0.0, stream="stdout", lines=["matrix"])]
    return encode(Batch(writer=uuid.uuid4().hex, records=records))


def post_records(w: World, c: Caller, t: str, ok: bool) -> Call:
    path = new_run_in(t)
    return Call("POST", f"/runs/{path}/records", content=records_batch(path), headers=MSGPACK)


def fork(w: World, c: Caller, t: str, ok: bool) -> Call:
    source = w.base_runs.get(t, "r")
    return Call("POST", f"/runs/{new_run_in(t)}/fork", json={"source": source, "step": 1})


def on_run(suffix: str, body: Any = None) -> Callable[[World, Caller, str, bool], Call]:
    """A call that changes an existing run: a fresh one when it should succeed."""
    return lambda w, c, t, ok: Call("POST", f"/runs/{run_of(w, t, new=ok and t in RUNS)}/{suffix}", json=body)


def member(method: str, body: Any = None) -> Callable[[World, Caller, str, bool], Call]:
    """Add (PUT) or remove (DELETE) a member: a fresh user when it should succeed, else victim
    (a viewer of both teams, so that a wrongly allowed call would succeed too)."""
    def make(w: World, c: Caller, t: str, ok: bool) -> Call:
        user = ("victim" if not ok else w.fresh_user(t) if method == "DELETE" else w.fresh_user())
        return Call(method, f"/teams/{t}/members/{user}", json=body)
    return make


def revoke(w: World, c: Caller, t: str, ok: bool) -> Call:
    if t == "no-key":
        return Call("DELETE", "/keys/zzzzzzzz")
    owner = {"own": c.user or "alice", "svc": "svc", "victim": "victim"}[t]
    return Call("DELETE", f"/keys/{w.fresh_key(owner, name='to-revoke')[1]}")


def key_params(t: str) -> dict[str, str]:
    return {} if t == "own" else {"user": t}


def logout_call(w: World, c: Caller, t: str, ok: bool) -> Call:
    """A session signs out of a session of its own (so the caller's stays usable)."""
    if not c.session:
        return Call("POST", "/auth/logout")
    fresh_session = w.session_caller(c.name, w.login_key, csrf=c.csrf)
    return Call("POST", "/auth/logout", headers=fresh_session.headers)


# -- files and blobs --------------------------------------------------------------------------

MATRIX_FILE = b"matrix file"
MATRIX_DIGEST = hashlib.sha256(MATRIX_FILE).hexdigest()


def file_run(w: World, t: str) -> str:
    """``entity/project/run`` of a run in target ``t``'s project with the file ``m.txt`` uploaded
    (written by the admin), or a path that does not exist."""
    if t not in RUNS:
        return run_of(w, t)
    entity, project = PROJECTS[t]
    run_id = f"f-{uuid.uuid4().hex[:10]}"
    records = [RunStart(seq=1, ts=0.0, entity=entity, project=project, run_id=run_id),
               FileSaved(seq=2, ts=0.0, name="m.txt", digest=MATRIX_DIGEST, size=len(MATRIX_FILE))]
    w.call("POST", f"/runs/{entity}/{project}/{run_id}/records", {**w.admin_headers, **MSGPACK},
           content=encode(Batch(writer=uuid.uuid4().hex, records=records))).raise_for_status()
    w.call("PUT", f"/projects/{entity}/{project}/blobs/{MATRIX_DIGEST}", w.admin_headers,
           content=MATRIX_FILE).raise_for_status()
    return f"{entity}/{project}/{run_id}"


def poll_upload(c: Caller, t: str) -> int:
    """Where an upload stands: a project writer's question, but a GET (no CSRF token needed)."""
    csrf_free = Caller(c.name, c.headers, user=c.user, admin=c.admin, read_only=c.read_only, session=c.session)
    return write_run(creates=True)(csrf_free, t)


def upload_call(method: str, suffix: str = "", **kwargs: Any) -> Callable[[World, Caller, str, bool], Call]:
    """A call on an upload the admin began in target ``t``'s project."""
    def make(w: World, c: Caller, t: str, ok: bool) -> Call:
        upload = w.as_admin("POST", f"/projects/{project_of(t)}/uploads")["upload_id"]
        return Call(method, f"/projects/{project_of(t)}/uploads/{upload}{suffix}", **kwargs)
    return make


SWEEP_CONFIG = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}


def sweep_of(w: World, t: str) -> str:
    """``entity/project/sweep`` for target ``t``: a new sweep of its project made by the admin (so
    state changes and agent slots never collide between cells), or one that does not exist."""
    if t == "missing-run":
        return "alice/priv/nosweep"
    if t == "no-entity":
        return f"{fresh('ghost')}/p/nosweep"
    entity, project = PROJECTS[t]
    made = w.as_admin("POST", f"/sweeps/{entity}/{project}", json={"config": SWEEP_CONFIG})
    return f"{entity}/{project}/{made['id']}"


def sweep_call(method: str, suffix: str = "", body: Any = None) -> Callable[[World, Caller, str, bool], Call]:
    return lambda w, c, t, ok: Call(method, f"/sweeps/{sweep_of(w, t)}{suffix}", json=body)


def sweep_heartbeat(w: World, c: Caller, t: str, ok: bool) -> Call:
    path = sweep_of(w, t)
    agent = w.as_admin("POST", f"/sweeps/{path}/agents", json={})["agent_id"] if t in RUNS else "noagent"
    return Call("POST", f"/sweeps/{path}/agents/{agent}/heartbeat", json={"runs": {}})


# -- what a 200 may show ----------------------------------------------------------------------

def projects_shown(w: World, c: Caller, entity: str, body: Any) -> list[str]:
    shown = {p["name"] for p in body["projects"]}
    problems = []
    for label, (owner, name) in PROJECTS.items():
        if owner != entity:
            continue
        if read_run(c, label) == 200 and name not in shown:
            problems.append(f"missing project {owner}/{name}")
        if read_run(c, label) != 200 and name in shown:
            problems.append(f"LEAK: lists hidden project {owner}/{name}")
    return problems


def teams_shown(w: World, c: Caller, t: str, body: Any) -> list[str]:
    shown = {team["name"] for team in body["teams"]}
    problems = []
    for team in ("lab", "ops"):
        member_of = c.admin or c.user in TEAM_MEMBERS[team]
        if member_of != (team in shown):
            problems.append(f"{'LEAK: lists' if team in shown else 'missing'} team {team}")
    return problems


def own_keys_shown(w: World, c: Caller, t: str, body: Any) -> list[str]:
    prefixes = {k["prefix"] for k in body["keys"]}
    owner = c.user if t == "own" else t
    mine = w.keys.get(owner or "")
    if mine is not None and mine not in prefixes:
        return [f"the key list of {owner} misses their key {mine}"]
    strangers = {p for user, p in w.keys.items() if user != owner} & prefixes
    return [f"LEAK: the key list of {owner} shows others' keys {sorted(strangers)}"] if strangers else []


def workspace_buckets_shown(w: World, t: str, body: Any) -> list[str]:
    """The batch answers for the run asked about: its history, or null for a run not there."""
    run_id = w.base_runs.get(t, "no-such-run")
    found = body["runs"].get(run_id, "absent")
    if t in RUNS:
        return [] if found and found["loss"]["count"] > 0 else [f"the buckets of {run_id} are missing: {found}"]
    return [] if found is None else [f"a run not in the project answered {found}"]


# -- the table: (method, path) -> rule ----------------------------------------------------------

RUN = "/api/v1/runs/{entity}/{project}/{run_id}"
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/health"): Rule(NONE, public(200), lambda w, c, t, ok: Call("GET", "/health")),
    ("GET", "/api/v1/auth/whoami"): Rule(NONE, signed_in, lambda w, c, t, ok: Call("GET", "/auth/whoami")),
    ("POST", "/api/v1/auth/login"): Rule(
        NONE, public(200), lambda w, c, t, ok: Call("POST", "/auth/login", json={"api_key": w.login_key})),
    ("POST", "/api/v1/auth/logout"): Rule(NONE, logout, logout_call),
    ("GET", "/api/v1/auth/session"): Rule(NONE, session, lambda w, c, t, ok: Call("GET", "/auth/session")),
    ("POST", "/api/v1/auth/links"): Rule(NONE, self_write, lambda w, c, t, ok: Call("POST", "/auth/links", json={})),
    # a link that is not one sends anybody to the login page (303), like a used or expired one
    ("GET", "/api/v1/auth/link"): Rule(
        NONE, public(303), lambda w, c, t, ok: Call("GET", "/auth/link", params={"token": "not-a-link"})),
    ("GET", "/api/v1/users"): Rule(NONE, server_read, lambda w, c, t, ok: Call("GET", "/users")),
    ("POST", "/api/v1/users"): Rule(
        NONE, server_write, lambda w, c, t, ok: Call("POST", "/users", json={"name": fresh("user")})),
    ("POST", "/api/v1/users/{name}/deactivate"): Rule(
        NONE, server_write,
        lambda w, c, t, ok: Call("POST", f"/users/{w.fresh_user() if ok else 'victim'}/deactivate")),
    ("POST", "/api/v1/users/{name}/activate"): Rule(
        NONE, server_write, lambda w, c, t, ok: Call("POST", f"/users/{w.fresh_user() if ok else 'victim'}/activate")),
    ("GET", "/api/v1/teams"): Rule(NONE, signed_in, lambda w, c, t, ok: Call("GET", "/teams"), teams_shown),
    ("POST", "/api/v1/teams"): Rule(
        NONE, self_write, lambda w, c, t, ok: Call("POST", "/teams", json={"name": fresh("team")})),
    ("GET", "/api/v1/teams/{team}"): Rule(TEAM_TARGETS, read_team, lambda w, c, t, ok: Call("GET", f"/teams/{t}")),
    ("PUT", "/api/v1/teams/{team}/members/{user}"): Rule(
        TEAM_TARGETS, admin_team, member("PUT", {"role": "viewer"})),
    ("DELETE", "/api/v1/teams/{team}/members/{user}"): Rule(TEAM_TARGETS, admin_team, member("DELETE")),
    ("POST", "/api/v1/teams/{team}/service-accounts"): Rule(
        TEAM_TARGETS, admin_team,
        lambda w, c, t, ok: Call("POST", f"/teams/{t}/service-accounts", json={"name": fresh("svc")})),
    ("GET", "/api/v1/keys"): Rule(
        ("own", "svc", "victim"), list_keys, lambda w, c, t, ok: Call("GET", "/keys", params=key_params(t)),
        own_keys_shown),
    ("POST", "/api/v1/keys"): Rule(
        ("own", "svc", "victim"), change_keys,
        lambda w, c, t, ok: Call("POST", "/keys", json={"name": "matrix", **key_params(t)})),
    ("DELETE", "/api/v1/keys/{prefix}"): Rule(("own", "svc", "victim", "no-key"), change_keys, revoke),
    ("GET", "/api/v1/projects/{entity}"): Rule(
        ("alice", "lab", "ops", "no-entity"), signed_in,
        lambda w, c, t, ok: Call("GET", f"/projects/{fresh('ghost') if t == 'no-entity' else t}"),
        lambda w, c, t, body: projects_shown(w, c, t, body)),
    ("GET", "/api/v1/projects/{entity}/{project}"): Rule(
        PROJECT_TARGETS, show_project, lambda w, c, t, ok: Call("GET", f"/projects/{project_of(t)}")),
    ("PATCH", "/api/v1/projects/{entity}/{project}"): Rule(
        RUN_WRITE_TARGETS, change_visibility,  # to the visibility it has: a real, audited change
        lambda w, c, t, ok: Call("PATCH", f"/projects/{project_of(t)}",
                                 json={"visibility": "public" if t == "pub" else "private" if t == "priv" else "team"})),
    ("GET", "/api/v1/audit"): Rule(NONE, server_read, lambda w, c, t, ok: Call("GET", "/audit")),
    ("GET", "/api/v1/runs/{entity}/{project}"): Rule(
        PROJECT_TARGETS, list_runs, lambda w, c, t, ok: Call("GET", f"/runs/{project_of(t)}")),
    ("PUT", RUN): Rule(RUN_WRITE_TARGETS, write_run(creates=True),
                       lambda w, c, t, ok: Call("PUT", f"/runs/{new_run_in(t)}", json={"notes": "matrix"})),
    ("GET", RUN): Rule(RUN_READ_TARGETS, read_run, get()),
    # the query API's run.update() / run.delete(): writers of the project only (a fresh run when it
    # should succeed; else the base run, which a wrongly allowed call would change or delete)
    ("PATCH", RUN): Rule(RUN_WRITE_TARGETS, write_run(creates=False),
                         lambda w, c, t, ok: Call("PATCH", f"/runs/{run_of(w, t, new=ok and t in RUNS)}",
                                                  json={"notes": "matrix", "summary": {"m": 1}})),
    ("DELETE", RUN): Rule(RUN_WRITE_TARGETS, write_run(creates=False),
                          lambda w, c, t, ok: Call("DELETE", f"/runs/{run_of(w, t, new=ok and t in RUNS)}")),
    ("GET", RUN + "/metrics"): Rule(RUN_READ_TARGETS, read_run, get("/metrics")),
    ("POST", RUN + "/writers"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True),
        lambda w, c, t, ok: Call("POST", f"/runs/{new_run_in(t)}/writers", json={"writer": uuid.uuid4().hex})),
    ("POST", RUN + "/records"): Rule(RUN_WRITE_TARGETS, write_run(creates=True), post_records),
    ("GET", RUN + "/resume"): Rule(RUN_READ_TARGETS, read_run, get("/resume")),
    ("POST", RUN + "/rewind"): Rule(RUN_WRITE_TARGETS, write_run(creates=False), on_run("rewind", {"step": 1})),
    ("POST", RUN + "/fork"): Rule(RUN_WRITE_TARGETS, write_run(creates=False), fork),
    ("POST", RUN + "/stop"): Rule(RUN_WRITE_TARGETS, write_run(creates=False), on_run("stop")),
    ("POST", RUN + "/preempting"): Rule(RUN_WRITE_TARGETS, write_run(creates=False), on_run("preempting")),
    ("GET", RUN + "/history/buckets"): Rule(RUN_READ_TARGETS, read_run, get("/history/buckets", key="loss")),
    ("GET", RUN + "/history"): Rule(RUN_READ_TARGETS, read_run, get("/history")),
    ("GET", RUN + "/history/scan"): Rule(RUN_READ_TARGETS, read_run, get("/history/scan")),
    ("GET", RUN + "/history/export"): Rule(RUN_READ_TARGETS, read_run, get("/history/export")),
    ("GET", RUN + "/console"): Rule(RUN_READ_TARGETS, read_run, get("/console")),
    ("GET", RUN + "/events"): Rule(RUN_READ_TARGETS, read_run, get("/events")),
    ("GET", RUN + "/system"): Rule(RUN_READ_TARGETS, read_run, get("/system")),
    ("GET", RUN + "/metadata"): Rule(RUN_READ_TARGETS, read_run, get("/metadata")),
    # the workspace's batch: a project's runs, like the run list (a run not there is null in a 200)
    ("GET", "/api/v1/projects/{entity}/{project}/buckets"): Rule(
        PROJECT_TARGETS, list_runs,
        lambda w, c, t, ok: Call("GET", f"/projects/{project_of(t)}/buckets",
                                 params={"runs": w.base_runs.get(t, "no-such-run"), "keys": "loss"}),
        lambda w, c, t, body: workspace_buckets_shown(w, t, body)),
    ("GET", RUN + "/files"): Rule(RUN_READ_TARGETS, read_run,
                                  lambda w, c, t, ok: Call("GET", f"/runs/{file_run(w, t)}/files")),
    ("GET", RUN + "/files/{file_name:path}"): Rule(RUN_READ_TARGETS, read_run,
                                              lambda w, c, t, ok: Call("GET", f"/runs/{file_run(w, t)}/files/m.txt")),
    ("DELETE", RUN + "/files/{file_name:path}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), lambda w, c, t, ok: Call("DELETE", f"/runs/{file_run(w, t)}/files/m.txt")),
    # uploads need a project writer; nothing is created, so an admin's to no entity succeeds
    ("POST", "/api/v1/projects/{entity}/{project}/blobs/missing"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True),
        lambda w, c, t, ok: Call("POST", f"/projects/{project_of(t)}/blobs/missing", json={"digests": [MATRIX_DIGEST]})),
    ("PUT", "/api/v1/projects/{entity}/{project}/blobs/{digest}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True),
        lambda w, c, t, ok: Call("PUT", f"/projects/{project_of(t)}/blobs/{MATRIX_DIGEST}", content=MATRIX_FILE)),
    ("POST", "/api/v1/projects/{entity}/{project}/blobs"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True),
        lambda w, c, t, ok: Call("POST", f"/projects/{project_of(t)}/blobs", headers=MSGPACK,
                                 content=encode({"blobs": [{"digest": MATRIX_DIGEST, "data": MATRIX_FILE}]}))),
    ("POST", "/api/v1/projects/{entity}/{project}/uploads"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True), lambda w, c, t, ok: Call("POST", f"/projects/{project_of(t)}/uploads")),
    ("GET", "/api/v1/projects/{entity}/{project}/uploads/{upload_id}"): Rule(
        RUN_WRITE_TARGETS, poll_upload, upload_call("GET")),
    ("PUT", "/api/v1/projects/{entity}/{project}/uploads/{upload_id}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True), upload_call("PUT", params={"offset": "0"}, content=b"part")),
    ("POST", "/api/v1/projects/{entity}/{project}/uploads/{upload_id}/complete"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True), upload_call("POST", "/complete", json={})),
    ("DELETE", "/api/v1/projects/{entity}/{project}/uploads/{upload_id}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True), upload_call("DELETE")),
    ("POST", "/api/v1/admin/gc"): Rule(
        NONE, server_write, lambda w, c, t, ok: Call("POST", "/admin/gc", json={"dry_run": True})),
    ("GET", "/api/v1/sweeps/{entity}/{project}"): Rule(
        PROJECT_TARGETS, list_runs, lambda w, c, t, ok: Call("GET", f"/sweeps/{project_of(t)}")),
    ("POST", "/api/v1/sweeps/{entity}/{project}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=True),
        lambda w, c, t, ok: Call("POST", f"/sweeps/{project_of(t)}", json={"config": SWEEP_CONFIG})),
    ("GET", "/api/v1/sweeps/{entity}/{project}/{sweep_id}"): Rule(RUN_READ_TARGETS, read_run, sweep_call("GET")),
    ("GET", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/runs"): Rule(
        RUN_READ_TARGETS, read_run, sweep_call("GET", "/runs")),
    ("POST", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/control"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), sweep_call("POST", "/control", {"action": "pause"})),
    ("POST", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/agents"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), sweep_call("POST", "/agents", {})),
    ("POST", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/agents/{agent_id}/heartbeat"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), sweep_heartbeat),
}


# -- automations and integrations (docs/automations.md) ---------------------------------------

ENTITY_TARGETS = ("alice", "lab", "ops", "no-entity")
ENTITY_ADMINS = {"alice": {"alice"}, "lab": {"alice"}, "ops": {"mallory"}}  # owner, team admins
HOOK_URL = "https://hooks.example.com/matrix"
AUTOMATION = "/api/v1/automations/{entity}/{project}/{name}"
_made: dict[tuple[int, str], tuple[str, str]] = {}  # (world, target) -> (automation, delivery id)


def entity_of(t: str) -> str:
    return fresh("ghost") if t == "no-entity" else t


def read_entity(c: Caller, t: str) -> int:
    if c.user is None:
        return 401
    return 200 if c.admin or c.user in ENTITY_MEMBERS.get(t, set()) else 404


def admin_entity(c: Caller, t: str) -> int:
    if (refused := refused_change(c)) is not None:
        return refused
    visible = c.admin or c.user in ENTITY_MEMBERS.get(t, set())
    if c.read_only or not (c.admin or c.user in ENTITY_ADMINS.get(t, set())):
        return 403 if visible else 404
    return 404 if t == "no-entity" else 200


def new_automation(name: str) -> dict[str, Any]:
    """A run-state automation that does nothing (no request leaves the machine)."""
    return {"name": name, "event": {"type": "RUN_STATE", "filter": {"states": ["RUNNING"]}},
            "action": {"type": "NO_OP"}}


def automation_in(w: World, t: str, fresh_one: bool = False) -> str:
    """``entity/project/name`` of an automation in target ``t``'s project (fresh: a new one)."""
    if t == "missing-run":
        return "alice/priv/no-such-automation"
    if t == "no-entity":
        return f"{fresh('ghost')}/p/a"
    project = project_of(t)
    if fresh_one:
        name = fresh("auto")
        w.as_admin("POST", f"/automations/{project}", json=new_automation(name))
        return f"{project}/{name}"
    return f"{project}/{delivered(w, t)[0]}"


def delivered(w: World, t: str) -> tuple[str, str]:
    """One automation per project with one (no-op) delivery: a run created after it fires it."""
    key = (id(w), t)
    if key not in _made:
        name = fresh("auto")
        w.as_admin("POST", f"/automations/{project_of(t)}", json=new_automation(name))
        w.write_run(*PROJECTS[t])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = w.as_admin("GET", f"/automations/{project_of(t)}/{name}/deliveries")["deliveries"]
            if found:
                _made[key] = (name, found[0]["id"])
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"automation {name} in {project_of(t)} never fired")
    return _made[key]


def redeliver_call(w: World, c: Caller, t: str, ok: bool) -> Call:
    if t not in RUNS:
        return Call("POST", f"/automations/{automation_in(w, t)}/deliveries/msg_none/redeliver")
    name, delivery = delivered(w, t)
    return Call("POST", f"/automations/{project_of(t)}/{name}/deliveries/{delivery}/redeliver")


def delete_integration_call(w: World, c: Caller, t: str, ok: bool) -> Call:
    if t == "no-entity":
        return Call("DELETE", f"/integrations/{entity_of(t)}/999999")
    made = w.as_admin("POST", f"/integrations/{t}", json={"kind": "webhook", "name": fresh("hook"), "url": HOOK_URL})
    return Call("DELETE", f"/integrations/{t}/{made['id']}")


RULES.update({
    ("GET", "/api/v1/integrations/{entity}"): Rule(
        ENTITY_TARGETS, read_entity, lambda w, c, t, ok: Call("GET", f"/integrations/{entity_of(t)}")),
    ("POST", "/api/v1/integrations/{entity}"): Rule(
        ENTITY_TARGETS, admin_entity,
        lambda w, c, t, ok: Call("POST", f"/integrations/{entity_of(t)}",
                                 json={"kind": "webhook", "name": fresh("hook"), "url": HOOK_URL})),
    ("DELETE", "/api/v1/integrations/{entity}/{integration_id}"): Rule(
        ENTITY_TARGETS, admin_entity, delete_integration_call),
    ("GET", "/api/v1/automations/{entity}"): Rule(
        ENTITY_TARGETS, read_entity, lambda w, c, t, ok: Call("GET", f"/automations/{entity_of(t)}")),
    ("GET", "/api/v1/automations/{entity}/{project}"): Rule(
        PROJECT_TARGETS, list_runs, lambda w, c, t, ok: Call("GET", f"/automations/{project_of(t)}")),
    ("POST", "/api/v1/automations/{entity}/{project}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False),
        lambda w, c, t, ok: Call("POST", f"/automations/{project_of(t)}", json=new_automation(fresh("auto")))),
    ("GET", AUTOMATION): Rule(
        RUN_READ_TARGETS, read_run, lambda w, c, t, ok: Call("GET", f"/automations/{automation_in(w, t)}")),
    ("PATCH", AUTOMATION): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False),
        lambda w, c, t, ok: Call("PATCH", f"/automations/{automation_in(w, t)}", json={"description": "matrix"})),
    ("DELETE", AUTOMATION): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False),
        lambda w, c, t, ok: Call("DELETE", f"/automations/{automation_in(w, t, fresh_one=ok and t in RUNS)}")),
    ("GET", AUTOMATION + "/deliveries"): Rule(
        RUN_READ_TARGETS, read_run,
        lambda w, c, t, ok: Call("GET", f"/automations/{automation_in(w, t)}/deliveries")),
    ("POST", AUTOMATION + "/deliveries/{delivery_id}/redeliver"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), redeliver_call),
    ("POST", RUN + "/alerts"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), on_run("alerts", {"title": "matrix", "wait_duration": 0})),
})

# -- artifacts (their own module: the world's artifacts are made there) ---------------------------

from matrix_artifacts import ARTIFACT_RULES  # noqa: E402 - it builds on the helpers above

RULES.update(ARTIFACT_RULES)
