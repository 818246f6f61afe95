"""The authorization matrix's world, built over the REST API of a fresh server:

- users: the bootstrap admin; alice (admin of team ``lab``), bob (member), vera (viewer), the
  service account ``svc`` of lab, mallory (outsider to lab, admin of team ``ops``), ``victim``
  (a viewer of both teams whose keys and membership the refused calls aim at), dave (deactivated);
- projects, each with a run holding history and console lines: ``alice/priv`` (private),
  ``lab/shared`` (the team's), ``alice/pub`` (public), ``ops/secret`` (another team's);
- callers: every user's full key, read-only keys of alice and the admin, alice's browser session
  with and without its CSRF token, no key, a garbage key, a revoked, an expired and a deactivated
  user's key.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from server_support import JSON, SESSION_COOKIE, bearer, cookie

from trackwell.schema import Batch, Console, History, RunStart, encode

MSGPACK = {"Content-Type": "application/msgpack"}
PROJECTS = {"priv": ("alice", "priv"), "shared": ("lab", "shared"), "pub": ("alice", "pub"),
            "ops": ("ops", "secret")}
HISTORY_STEPS = 5


@dataclass(frozen=True)
class Caller:
    """One identity a request is made with. ``user``: who the server should take it for (None: nobody)."""

    name: str
    headers: dict[str, str]
    user: str | None = None
    admin: bool = False
    read_only: bool = False
    session: bool = False
    csrf: bool = True  # a session's state changes carry its X-CSRF-Token


@dataclass
class World:
    url: str
    client: httpx.Client
    admin: str
    admin_headers: dict[str, str]
    callers: list[Caller] = field(default_factory=list)
    base_runs: dict[str, str] = field(default_factory=dict)  # project label -> its run id
    keys: dict[str, str] = field(default_factory=dict)  # user -> the prefix of their main key
    login_key: str = ""  # a valid key the login cells send in their body (bob's)

    # -- plain calls ------------------------------------------------------------------------

    def call(self, method: str, path: str, headers: dict[str, str], *, json: Any = None,
             params: dict[str, str] | None = None, content: bytes | None = None, api: bool = True) -> httpx.Response:
        self.client.cookies.clear()  # a login's Set-Cookie must not follow later callers
        body = {"json": json} if json is not None else {"content": content or b""}
        if method not in ("GET", "HEAD"):
            headers = {**JSON, **headers}
        response = self.client.request(method, f"/api/v1{path}" if api else path, headers=headers, params=params, **body)
        self.client.cookies.clear()
        return response

    def as_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, self.admin_headers, **kwargs)
        assert response.status_code == 200, (method, path, response.status_code, response.text[:500])
        return response.json()

    # -- fresh things for the cells whose call should succeed -------------------------------

    def write_run(self, entity: str, project: str, run_id: str | None = None,
                  headers: dict[str, str] | None = None) -> str:
        """A run with history (steps 0..4) and console lines, written with ``headers`` (the admin's)."""
        run_id = run_id or f"r-{uuid.uuid4().hex[:10]}"
        now = time.time()
        records = [RunStart(seq=1, ts=now, entity=entity, project=project, run_id=run_id),
                   *(History(seq=2 + i, ts=now, step=i, runtime=float(i), data={"loss": 1.0 / (i + 1)})
                     for i in range(HISTORY_STEPS)),
                   Console(seq=2 + HISTORY_STEPS, ts=now, stream="stdout", lines=["hello", "world"])]
        response = self.call("POST", f"/runs/{entity}/{project}/{run_id}/records",
                             {**(headers or self.admin_headers), **MSGPACK},
                             content=encode(Batch(writer=uuid.uuid4().hex, records=records)))
        assert response.status_code == 200, response.text[:500]
        return run_id

    def fresh_user(self, *teams: str) -> str:
        name = f"u-{uuid.uuid4().hex[:10]}"
        self.as_admin("POST", "/users", json={"name": name})
        for team in teams:
            self.as_admin("PUT", f"/teams/{team}/members/{name}", json={"role": "viewer"})
        return name

    def fresh_key(self, user: str, **options: Any) -> tuple[str, str]:
        """(key, prefix) of a new key of ``user``, made by the admin."""
        made = self.as_admin("POST", "/keys", json={"user": user, **options})
        return made["key"], made["prefix"]

    def login(self, key: str) -> tuple[str, str]:
        """(session cookie value, CSRF token) of a new browser session."""
        response = self.call("POST", "/auth/login", {}, json={"api_key": key})
        assert response.status_code == 200, response.text[:500]
        return response.cookies[SESSION_COOKIE], response.json()["csrf_token"]

    def session_caller(self, name: str, key: str, csrf: bool) -> Caller:
        token, csrf_token = self.login(key)
        headers = {**cookie(token), **({"X-CSRF-Token": csrf_token} if csrf else {})}
        return Caller(name, headers, user="alice", session=True, csrf=csrf)



def build_world(url: str, admin_key: str) -> World:
    client = httpx.Client(base_url=url, timeout=30)
    admin_headers = bearer(admin_key)
    me = client.get("/api/v1/auth/whoami", headers=admin_headers).json()["user"]
    world = World(url, client, me["name"], admin_headers)
    keys = {}
    for user in ("alice", "bob", "vera", "mallory", "victim", "dave"):
        world.as_admin("POST", "/users", json={"name": user})
        keys[user], world.keys[user] = world.fresh_key(user, name="main")
    world.login_key = keys["bob"]
    alice, mallory = bearer(keys["alice"]), bearer(keys["mallory"])
    _ok(world.call("POST", "/teams", alice, json={"name": "lab"}))
    for user, role in (("bob", "member"), ("vera", "viewer"), ("victim", "viewer"), ("dave", "member")):
        _ok(world.call("PUT", f"/teams/lab/members/{user}", alice, json={"role": role}))
    _ok(world.call("POST", "/teams/lab/service-accounts", alice, json={"name": "svc"}))
    made = _ok(world.call("POST", "/keys", alice, json={"user": "svc", "name": "main"}))
    keys["svc"], world.keys["svc"] = made["key"], made["prefix"]
    _ok(world.call("POST", "/teams", mallory, json={"name": "ops"}))
    _ok(world.call("PUT", "/teams/ops/members/victim", mallory, json={"role": "viewer"}))

    writers = {"priv": alice, "shared": bearer(keys["bob"]), "pub": alice, "ops": mallory}
    for label, (entity, project) in PROJECTS.items():
        world.base_runs[label] = world.write_run(entity, project, headers=writers[label])
    _ok(world.call("PATCH", "/projects/alice/pub", alice, json={"visibility": "public"}))

    world.callers = _callers(world, admin_key, keys)
    _check_identities(world)
    return world


def _callers(world: World, admin_key: str, keys: dict[str, str]) -> list[Caller]:
    revoked, revoked_prefix = world.fresh_key("alice", name="revoked")
    world.as_admin("DELETE", f"/keys/{revoked_prefix}")
    expired, _ = world.fresh_key("alice", name="expired", expires_in_days=0.00001)  # 0.86 s
    world.as_admin("POST", "/users/dave/deactivate")
    callers = [Caller("admin", bearer(admin_key), user=world.admin, admin=True),
               Caller("admin-read-only", bearer(world.fresh_key(world.admin, read_only=True)[0]), user=world.admin,
                      admin=True, read_only=True)]
    callers += [Caller(user, bearer(keys[user]), user=user) for user in ("alice", "bob", "vera", "mallory", "svc")]
    callers += [Caller("alice-read-only", bearer(world.fresh_key("alice", read_only=True)[0]), user="alice",
                       read_only=True),
                world.session_caller("alice-session", keys["alice"], csrf=True),
                world.session_caller("alice-session-without-csrf", keys["alice"], csrf=False),
                Caller("no-key", {}),
                Caller("garbage-key", bearer("tw_nosuchk_" + "x" * 43)),
                Caller("malformed-header", {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}),
                Caller("revoked-key", bearer(revoked)),
                Caller("expired-key", bearer(expired)),
                Caller("deactivated-user", bearer(keys["dave"]))]
    time.sleep(1.0)  # past the expired key's expiry; it was never used, so nothing cached it
    return callers


def _check_identities(world: World) -> None:
    """Each caller is who the matrix takes it for (or nobody): whoami says so."""
    for caller in world.callers:
        response = world.call("GET", "/auth/whoami", caller.headers)
        if caller.user is None:
            assert response.status_code == 401, (caller.name, response.status_code, response.text[:300])
            assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), caller.name
        else:
            assert response.status_code == 200, (caller.name, response.text[:300])
            assert response.json()["user"]["name"] == caller.user, caller.name
            key = response.json()["key"]
            assert (key is None) == caller.session and (key is None or key["read_only"] == caller.read_only)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.method, response.request.url.path, response.status_code,
                                         response.text[:500])
    return response.json()
