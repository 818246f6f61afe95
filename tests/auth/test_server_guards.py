"""The server's browser-side guards and the ways it can be started, against real servers: Host
names (DNS rebinding), cross-site Origins, CORS, a session's CSRF token, the failed-sign-in rate
limit, and --auth none (no key needed, a warning, "simple" requests refused, never on a
non-loopback host unless --allow-insecure). The guarded server runs on SQLite and PostgreSQL (its
sessions live in the database); the servers started with other flags only on SQLite: what they
test runs before any database is asked."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import (
    BACKENDS,
    JSON,
    Served,
    admin_key,
    bearer,
    config_dir,
    cookie,
    fresh_server,
)
from servers import LiveServer, free_port, start_server

ALLOWED_HOST, PUBLIC_HOST = "tw.internal", "tw.example.org"
APP_ORIGIN = "https://app.example.org"


@pytest.fixture(scope="module", params=BACKENDS)
def guarded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with fresh_server(request, request.param, tmp_path_factory.mktemp("guards"), "--allowed-host", ALLOWED_HOST,
                      "--public-url", f"https://{PUBLIC_HOST}") as running:
        yield running


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[tuple[Path, list[LiveServer]]]:
    """Start servers with ``start(*flags)`` on SQLite in this test's dir; all stopped after it."""
    started: list[LiveServer] = []
    with config_dir(tmp_path / "config"):
        yield tmp_path, started
        for live in started:
            live.stop()


def start(where: tuple[Path, list[LiveServer]], *flags: str) -> LiveServer:
    tmp, started = where
    live = start_server(tmp / f"server-{len(started)}", *flags)
    started.append(live)
    return live


def team_names(url: str, key: str) -> set[str]:
    return {t["name"] for t in httpx.get(f"{url}/api/v1/teams", headers=bearer(key)).json()["teams"]}


def new_team(url: str, headers: dict[str, str]) -> tuple[str, httpx.Response]:
    """POST /teams with a JSON body sent with ``headers``: (the team's name, the answer)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    return name, httpx.post(f"{url}/api/v1/teams", content=f'{{"name": "{name}"}}'.encode(), headers=headers)


def test_only_configured_host_names_are_answered(guarded: Served) -> None:
    live, key = guarded.live, admin_key(guarded.live)
    port = live.url.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", f"localhost.evil.example:{port}", f"{ALLOWED_HOST}.evil"):
        response = httpx.get(f"{live.url}/api/v1/health", headers={"Host": host})
        assert response.status_code == 400 and "--allowed-host" in response.json()["detail"], host
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", ALLOWED_HOST, f"{ALLOWED_HOST}:{port}",
                 PUBLIC_HOST, f"{PUBLIC_HOST.upper()}:443"):
        response = httpx.get(f"{live.url}/api/v1/auth/whoami", headers={"Host": host, **bearer(key)})
        assert response.status_code == 200, (host, response.text[:200])
    name, refused = new_team(live.url, {"Host": "evil.example", **bearer(key), **JSON})
    assert refused.status_code == 400 and name not in team_names(live.url, key)


def test_a_cross_site_origin_cannot_change_anything(guarded: Served) -> None:
    live, key = guarded.live, admin_key(guarded.live)
    for origin in ("https://evil.example", live.url.replace("127.0.0.1", "evil.example"), "http://127.0.0.1:1"):
        name, refused = new_team(live.url, {"Origin": origin, **bearer(key), **JSON})
        assert refused.status_code == 403 and "--cors-origin" in refused.json()["detail"], origin
        assert name not in team_names(live.url, key)
    for origin in (live.url, f"https://{PUBLIC_HOST}"):  # its own, and the public URL's
        name, made = new_team(live.url, {"Origin": origin, **bearer(key), **JSON})
        assert made.status_code == 200 and name in team_names(live.url, key), origin
    read = httpx.get(f"{live.url}/api/v1/teams", headers={"Origin": "https://evil.example", **bearer(key)})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers  # CORS keeps it unread


def test_cors_is_off_unless_an_origin_is_named(guarded: Served, sqlite_server: tuple[Path, list[LiveServer]]) -> None:
    preflight = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    off = guarded.live
    assert "access-control-allow-origin" not in httpx.options(f"{off.url}/api/v1/teams", headers=preflight).headers
    assert "access-control-allow-origin" not in httpx.get(f"{off.url}/api/v1/health",
                                                          headers={"Origin": APP_ORIGIN}).headers
    on = start(sqlite_server, "--cors-origin", APP_ORIGIN)
    answer = httpx.options(f"{on.url}/api/v1/teams", headers=preflight)
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == APP_ORIGIN
    assert httpx.get(f"{on.url}/api/v1/health", headers={"Origin": APP_ORIGIN}).headers[
        "access-control-allow-origin"] == APP_ORIGIN
    other = httpx.get(f"{on.url}/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    name, made = new_team(on.url, {"Origin": APP_ORIGIN, **bearer(admin_key(on)), **JSON})
    assert made.status_code == 200 and made.headers["access-control-allow-origin"] == APP_ORIGIN


def test_a_sessions_state_changes_need_its_csrf_token(guarded: Served) -> None:
    live, key = guarded.live, admin_key(guarded.live)
    login = httpx.post(f"{live.url}/api/v1/auth/login", json={"api_key": key})
    assert login.status_code == 200
    set_cookie = login.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    session, csrf = cookie(login.cookies["trackwell_session"]), login.json()["csrf_token"]
    assert httpx.get(f"{live.url}/api/v1/auth/session", headers=session).json()["csrf_token"] == csrf
    for headers in ({**session, **JSON}, {**session, **JSON, "X-CSRF-Token": "not-" + csrf}):
        name, refused = new_team(live.url, headers)
        assert refused.status_code == 403 and refused.json()["error"] == "csrf"
        assert name not in team_names(live.url, key)
    name, refused = new_team(live.url, {**session, "Content-Type": "text/plain"})  # a form's POST
    assert refused.status_code == 415 and name not in team_names(live.url, key)
    name, made = new_team(live.url, {**session, **JSON, "X-CSRF-Token": csrf})
    assert made.status_code == 200 and name in team_names(live.url, key)
    assert httpx.post(f"{live.url}/api/v1/auth/logout", headers={**session, "X-CSRF-Token": csrf}).status_code == 200
    assert httpx.get(f"{live.url}/api/v1/auth/whoami", headers=session).status_code == 401


def test_failed_sign_ins_are_limited_per_address_until_they_age_out(
        sqlite_server: tuple[Path, list[LiveServer]]) -> None:
    live = start(sqlite_server, "--auth-failures-per-minute", "3")
    good, bad = bearer(admin_key(live)), bearer("tw_nosuchk_" + "x" * 43)
    whoami = f"{live.url}/api/v1/auth/whoami"
    assert [httpx.get(whoami, headers=bad).status_code for _ in range(3)] == [401, 401, 401]
    limited = httpx.get(whoami, headers=bad)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    wait = int(limited.headers["retry-after"])
    assert 1 <= wait <= 60
    assert httpx.get(whoami, headers=good).status_code == 429  # this address is held off, whatever it sends
    assert httpx.post(f"{live.url}/api/v1/auth/login", json={"api_key": "tw_nosuchk_" + "y" * 43}).status_code == 429
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as elsewhere:
        assert elsewhere.get(whoami, headers=good).status_code == 200  # another address is not
    time.sleep(wait + 1)  # the failures age out of the minute
    assert httpx.get(whoami, headers=good).status_code == 200


def test_auth_none_needs_no_key_warns_and_still_refuses_simple_requests(
        sqlite_server: tuple[Path, list[LiveServer]]) -> None:
    live = start(sqlite_server, "--auth", "none")
    me = httpx.get(f"{live.url}/api/v1/auth/whoami").json()
    assert me["auth"] == "none" and me["user"]["admin"]
    key = admin_key(live)
    name, made = new_team(live.url, JSON)
    assert made.status_code == 200 and name in team_names(live.url, key)
    name, refused = new_team(live.url, {"Content-Type": "text/plain"})  # a cross-site form's body
    assert refused.status_code == 415 and name not in team_names(live.url, key)
    assert "--auth none: no API keys are checked" in live.log()


def test_auth_none_refuses_a_bodiless_simple_request_with_403(sqlite_server: tuple[Path, list[LiveServer]]) -> None:
    live = start(sqlite_server, "--auth", "none")
    run = f"{live.url}/api/v1/runs/{uuid.uuid4().hex[:8]}/p/r"
    assert httpx.put(run, json={"notes": "x"}).status_code == 200
    assert httpx.post(f"{run}/stop").status_code == 403  # a cross-site form with no body
    assert httpx.get(run).json()["state"] == "running"


def test_auth_none_is_refused_on_a_non_loopback_host_unless_insecure_is_allowed(
        sqlite_server: tuple[Path, list[LiveServer]]) -> None:
    tmp = sqlite_server[0] / "insecure"
    refused = subprocess.run([sys.executable, "-m", "trackwell", "server", "--auth", "none", "--host", "0.0.0.0",
                              "--port", str(free_port()), "--data-dir", str(tmp)], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0 and "--allow-insecure" in refused.stderr, refused.stderr
    assert not (tmp / "trackwell.db").exists()  # refused before anything was made
    live = start(sqlite_server, "--auth", "none", "--host", "0.0.0.0", "--allow-insecure")
    assert httpx.get(f"{live.url}/api/v1/auth/whoami").json()["auth"] == "none"
