"""Sign-in links (`trackwell open`, `trackwell demo`): a key holder gets a single-use URL that
gives a browser a session; it works once, never redirects off the server, and is not a key."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from server_support import JSON, SESSION_COOKIE, Served, admin_key, bearer, cookie, fresh_server


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with fresh_server(request, "sqlite", tmp_path_factory.mktemp("links")) as s:
        yield s


def link(url: str, key: str) -> str:
    r = httpx.post(f"{url}/api/v1/auth/links", json={}, headers=bearer(key))
    assert r.status_code == 200, r.text
    return str(r.json()["path"])


def test_a_link_signs_a_browser_in_once(served: Served) -> None:
    url, key = served.live.url, admin_key(served.live)
    path = link(url, key)
    opened = httpx.get(f"{url}{path}&next=/root/p/runs/x")
    assert opened.status_code == 303 and opened.headers["location"] == "/root/p/runs/x"
    session = opened.cookies[SESSION_COOKIE]
    me = httpx.get(f"{url}/api/v1/auth/session", headers=cookie(session))
    admin = httpx.get(f"{url}/api/v1/auth/whoami", headers=bearer(key)).json()["user"]["name"]
    assert me.status_code == 200 and me.json()["user"] == admin, me.text
    again = httpx.get(f"{url}{path}")
    assert again.status_code == 303 and again.headers["location"] == "/login?expired=1"
    assert SESSION_COOKIE not in again.cookies
    # the link's token is no session of its own
    assert httpx.get(f"{url}/api/v1/auth/session", headers=cookie(path.split("token=")[1])).status_code == 401


def test_a_link_never_leads_off_the_server(served: Served) -> None:
    url, key = served.live.url, admin_key(served.live)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        opened = httpx.get(f"{url}{link(url, key)}&next={quote(target, safe='')}")
        assert opened.status_code == 303 and opened.headers["location"] == "/", target


def test_only_a_full_key_makes_links(served: Served) -> None:
    url, key = served.live.url, admin_key(served.live)
    read_only = httpx.post(f"{url}/api/v1/keys", json={"read_only": True}, headers={**bearer(key), **JSON}).json()
    assert httpx.post(f"{url}/api/v1/auth/links", json={}, headers=bearer(read_only["key"])).status_code == 403
    assert httpx.post(f"{url}/api/v1/auth/links", json={}).status_code == 401


def test_trackwell_open_prints_a_working_link(served: Served) -> None:
    done = subprocess.run([sys.executable, "-m", "trackwell", "open", "--host", served.live.url, "--no-browser",
                           "/root"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split()[-1]
    assert printed.startswith(f"{served.live.url}/api/v1/auth/link?token=")
    opened = httpx.get(printed)
    assert opened.status_code == 303 and opened.headers["location"] == "/root"
    assert SESSION_COOKIE in opened.cookies
