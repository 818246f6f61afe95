"""`trackwell users/teams/keys` end to end against a real server, and what the SDK and Api do
with the keys they make: a key works, a revoked key fails with AuthenticationError, a key
revoked in the middle of a run loses nothing (`trackwell sync` delivers it later)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import client_helpers
import pytest
from client_helpers import cli, cli_json
from servers import LiveServer

import trackwell
from trackwell import _credentials
from trackwell.api import Api, RunNotFoundError
from trackwell.errors import AuthenticationError, PermissionDenied

config_dir = client_helpers.config_dir  # autouse: this test's own credentials directory
server = client_helpers.server


def ok(*args: str, input: str | None = None) -> str:
    result = cli(*args, input=input)
    assert result.exit_code == 0, f"trackwell {' '.join(args)}:\n{result.output}"
    return result.output


def test_admin_commands_end_to_end(server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = server.url
    h = ("--host", url)
    assert "Created user alice" in ok("users", "create", "alice", "--email", "a@example.org", *h)
    assert "Created team vision" in ok("teams", "create", "vision", *h)
    assert "alice is a member of team vision" in ok("teams", "add-member", "vision", "alice", *h)
    members = cli_json("teams", "show", "vision", *h)
    assert {(m["user"], m["role"]) for m in members["members"]} >= {("alice", "member")}  # type: ignore[index]
    assert "alice" in ok("users", "list", *h) and "vision (member)" in ok("users", "list", *h)
    assert "vision" in ok("teams", "list", *h)

    made = cli_json("keys", "create", "--user", "alice", "--name", "laptop", *h)
    key = made["key"]  # type: ignore[index]
    prefix = made["prefix"]  # type: ignore[index]
    assert key.startswith(f"tw_{prefix}_")
    listed = cli_json("keys", "list", "--user", "alice", *h)
    assert [(k["prefix"], k["name"], k["revoked"]) for k in listed["keys"]] == [(prefix, "laptop", False)]  # type: ignore[index]
    human = ok("keys", "create", "--user", "alice", "--read-only", *h)
    assert "not shown again" in human and "tw_" in human

    # alice's key works: whoami as alice, and she logs to the team
    monkeypatch.setenv("TRACKWELL_API_KEY", key)
    me = ok("whoami", *h)
    assert "as alice" in me and "vision" in me and "member" in me and prefix in me
    run = trackwell.init(entity="vision", project="p", dir=tmp_path, reinit=True,
                         settings={"base_url": url, "quiet": True, "console": "off"})
    run.log({"acc": 0.5})
    run.finish(quiet=True)
    assert Api(base_url=url).run(f"vision/p/{run.id}").summary["acc"] == 0.5
    # a team admin's business is not a member's: refused with the server's reason
    refused = cli("teams", "add-member", "vision", "alice", "--role", "admin", *h)
    assert refused.exit_code != 0 and "PUT /teams/vision/members/alice" in refused.output
    assert "HTTP 403" in refused.output

    monkeypatch.delenv("TRACKWELL_API_KEY")
    assert "alice is a viewer of team vision" in ok("teams", "set-role", "vision", "alice", "viewer", *h)
    assert f"Revoked key {prefix}" in ok("keys", "revoke", prefix, *h)
    assert cli_json("keys", "list", "--user", "alice", *h)["keys"][0]["revoked"] is True  # type: ignore[index]
    with pytest.raises(AuthenticationError, match=f"from api_key=: API key {prefix} was revoked"):
        Api(base_url=url, api_key=key).run(f"vision/p/{run.id}")
    monkeypatch.setenv("TRACKWELL_API_KEY", key)
    result = cli("whoami", *h)
    assert result.exit_code != 0 and "refused the API key from TRACKWELL_API_KEY" in result.output
    assert key not in result.output
    monkeypatch.delenv("TRACKWELL_API_KEY")

    sa = cli_json("teams", "add-service-account", "vision", "ci-bot", *h)
    assert sa["kind"] == "service"  # type: ignore[index]
    bot_key = cli_json("keys", "create", "--user", "ci-bot", *h)["key"]  # type: ignore[index]
    assert Api(base_url=url, api_key=bot_key).run(f"vision/p/{run.id}").id == run.id

    assert "no longer a member" in ok("teams", "remove-member", "vision", "alice", *h)
    assert "Deactivated alice" in ok("users", "deactivate", "alice", "--yes", *h)
    assert "alice" not in {m["user"] for m in cli_json("teams", "show", "vision", *h)["members"]}  # type: ignore[index]


def test_admin_commands_need_a_login_and_an_admin(server: LiveServer) -> None:
    h = ("--host", server.url)
    ok("users", "create", "bob", *h)
    bob = cli_json("keys", "create", "--user", "bob", *h)["key"]  # type: ignore[index]
    assert "Logged in" in ok("login", bob, *h)  # replaces the admin's login for this server
    result = cli("users", "create", "mallory", *h)
    assert result.exit_code != 0 and "POST /users" in result.output and "HTTP 403" in result.output
    assert "Created team bobs" in ok("teams", "create", "bobs", *h)  # any user may
    ok("logout", *h)
    result = cli("teams", "list", *h)
    assert result.exit_code != 0 and "no API key" in result.output and "trackwell login" in result.output


def test_api_not_found_does_not_say_whether_the_run_exists(server: LiveServer, tmp_path: Path) -> None:
    url = server.url
    run = trackwell.init(project="secret", dir=tmp_path, reinit=True,
                         settings={"base_url": url, "quiet": True, "console": "off"})
    run.log({"x": 1})
    run.finish(quiet=True)
    ok("users", "create", "eve", "--host", url)
    eve = Api(base_url=url, api_key=cli_json("keys", "create", "--user", "eve", "--host", url)["key"])  # type: ignore[index]
    with pytest.raises(RunNotFoundError) as hidden:
        eve.run(f"{run.entity}/secret/{run.id}")
    with pytest.raises(RunNotFoundError) as missing:
        eve.run(f"{run.entity}/secret/nosuchrun")
    assert str(hidden.value).replace(run.id, "ID") == str(missing.value).replace("nosuchrun", "ID")
    assert hidden.value.status == 404
    with pytest.raises(RunNotFoundError) as hidden_project:
        list(eve.runs(f"{run.entity}/secret"))
    with pytest.raises(RunNotFoundError) as missing_project:
        list(eve.runs(f"{run.entity}/nothing"))
    assert str(hidden_project.value).replace("secret", "X") == str(missing_project.value).replace("nothing", "X")


def test_read_only_key_cannot_start_a_run(server: LiveServer, tmp_path: Path) -> None:
    read_only = cli_json("keys", "create", "--read-only", "--host", server.url)["key"]  # type: ignore[index]
    with pytest.raises(PermissionDenied) as refused:
        trackwell.init(project="p", dir=tmp_path, reinit=True,
                       settings={"base_url": server.url, "api_key": read_only, "quiet": True, "console": "off"})
    assert refused.value.status == 403 and read_only not in str(refused.value)


def test_key_revoked_mid_run_keeps_the_journal_and_sync_delivers(
        server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = server.url
    key = cli_json("keys", "create", "--name", "mid-run", "--host", url)
    monkeypatch.setenv("TRACKWELL_RETRY_INITIAL_INTERVAL", "0.2")  # the uploader's backoff, kept short
    run = trackwell.init(project="p", dir=tmp_path, reinit=True,
                         settings={"base_url": url, "api_key": key["key"], "quiet": True,  # type: ignore[index]
                                   "console": "off", "finish_timeout": 30})
    for step in range(5):
        run.log({"loss": step})
    admin = Api(base_url=url)
    path = f"{run.entity}/p/{run.id}"
    deadline = time.monotonic() + 30
    while admin.run(path).summary.get("loss") != 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert admin.run(path).summary.get("loss") == 4

    ok("keys", "revoke", key["prefix"], "--host", url)  # type: ignore[index]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(5, 10):
            run.log({"loss": step})
        run.finish(quiet=True)
    said = [str(w.message) for w in caught]
    refused = [m for m in said if "refused the API key" in m]
    assert len(refused) == 1, said  # once, however often the uploader tried
    assert f"API key {key['prefix']} was revoked" in refused[0]  # type: ignore[index]
    assert "trackwell login" in refused[0] and key["key"] not in refused[0]  # type: ignore[index]
    assert any("trackwell sync" in m and "not on the server yet" in m for m in said), said
    assert admin.run(path).summary.get("loss") == 4  # nothing after the revocation got in

    assert _credentials.load(url) is not None  # the admin's login, which sync uses
    result = cli("sync", str(tmp_path / "trackwell"), "--base-url", url)
    assert result.exit_code == 0, result.output
    got = admin.run(path)
    assert got.summary["loss"] == 9 and got.state == "finished"
    assert [r["loss"] for r in got.scan_history(keys=["loss"])] == list(range(10))


def test_init_to_an_entity_the_key_may_not_write_is_refused_not_journaled(server: LiveServer,
                                                                          tmp_path: Path) -> None:
    """A 404 for the new run (an entity that does not exist or is not the caller's) is no outage:
    init() says so at once instead of journaling records no upload would deliver."""
    from trackwell.errors import UsageError

    ok("users", "create", "eve", "--host", server.url)
    eve = cli_json("keys", "create", "--user", "eve", "--host", server.url)["key"]  # type: ignore[index]
    admin = _credentials.load(server.url).user  # type: ignore[union-attr]
    for entity in (admin, "no-such-team"):
        with pytest.raises(UsageError, match=f"cannot start run {entity}/p/") as refused:
            trackwell.init(entity=entity, project="p", dir=tmp_path / "runs", reinit=True,
                           settings={"base_url": server.url, "api_key": eve, "quiet": True, "console": "off"})
        assert "api_key=" in str(refused.value) and eve not in str(refused.value)
    assert not list(tmp_path.rglob("*.twj"))
