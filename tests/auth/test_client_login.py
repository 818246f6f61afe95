"""`trackwell login/logout/whoami` and where the client's key comes from, against real servers
that bootstrapped their admin (and its key) into this test's credentials directory."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import client_helpers
import pytest
from client_helpers import admin_key, cli, tree_bytes
from servers import LiveServer

from trackwell import _credentials
from trackwell.api import Api
from trackwell.errors import AuthenticationError

BAD_KEY = "tw_nosuchk_" + "x" * 43

config_dir = client_helpers.config_dir  # autouse: this test's own credentials directory
server = client_helpers.server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_login_verifies_and_stores_the_key_0600(server: LiveServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    key = admin_key(server)
    elsewhere = tmp_path / "another-machine" / "trackwell"
    monkeypatch.setenv("TRACKWELL_CONFIG_DIR", str(elsewhere))
    result = cli("login", "--host", server.url, input=key + "\n")  # asked for, not echoed
    assert result.exit_code == 0, result.output
    assert key not in result.output
    name = json.loads((elsewhere / "credentials.json").read_text())["hosts"][_credentials.host_key(server.url)]["user"]
    assert f"Logged in to {server.url} as {name}; credentials in {elsewhere / 'credentials.json'}" in result.output
    stored = _credentials.load(server.url)
    assert stored == _credentials.Credential(key, name, name)
    assert mode(elsewhere / "credentials.json") == 0o600 and mode(elsewhere) == 0o700


def test_login_with_a_bad_key_stores_nothing(server: LiveServer, config_dir: Path) -> None:
    before = (config_dir / "credentials.json").read_bytes()
    result = cli("login", "--host", server.url, BAD_KEY)
    assert result.exit_code != 0
    assert "refused this key (unknown API key)" in result.output and "nothing was stored" in result.output
    assert BAD_KEY not in result.output
    assert (config_dir / "credentials.json").read_bytes() == before


def test_login_to_an_unreachable_server_says_so(config_dir: Path) -> None:
    result = cli("login", "--host", "http://127.0.0.1:9", BAD_KEY)
    assert result.exit_code != 0 and "cannot reach the trackwell server at http://127.0.0.1:9" in result.output
    assert not (config_dir / "credentials.json").exists()


def test_a_server_without_auth_needs_no_login_and_says_so(tmp_path: Path) -> None:
    from servers import start_server

    live = start_server(tmp_path / "open", "--auth", "none")
    try:
        key = admin_key(live)
        _credentials.remove(live.url)
        result = cli("whoami", "--host", live.url)  # no key at all: acts as the admin
        assert result.exit_code == 0, result.output
        assert "--auth none" in result.output and "server admin" in result.output
        result = cli("login", "--host", live.url, key)
        assert result.exit_code == 0 and "also accepts requests without a key" in result.output
        assert cli("login", "--host", live.url, BAD_KEY).exit_code != 0  # a key given is still checked
        assert _credentials.load(live.url).api_key == key  # type: ignore[union-attr]
    finally:
        live.stop()


def test_whoami_then_logout(server: LiveServer) -> None:
    key = admin_key(server)
    name = _credentials.load(server.url).user  # type: ignore[union-attr]
    result = cli("whoami", "--host", server.url)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"as {name}" in out and "server admin" in out and f"default entity: {name}" in out
    assert f"key: {key.split('_')[1]}" in out and key not in out  # the prefix, never the secret

    result = cli("logout", "--host", server.url)
    assert result.exit_code == 0 and f"Logged out of {server.url}" in result.output
    assert _credentials.load(server.url) is None
    result = cli("whoami", "--host", server.url)
    assert result.exit_code != 0
    assert "no API key for the trackwell server" in result.output and "trackwell login" in result.output
    assert "Not logged in" in cli("logout", "--host", server.url).output


def test_env_key_overrides_the_file_and_settings_override_env(server: LiveServer, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import trackwell

    good = admin_key(server)
    assert list(Api(base_url=server.url).runs("nothing-here")) == []  # the file's key is good
    monkeypatch.setenv("TRACKWELL_API_KEY", BAD_KEY)
    with pytest.raises(AuthenticationError, match="TRACKWELL_API_KEY") as refused:
        list(Api(base_url=server.url).runs("nobody/nothing"))
    assert BAD_KEY not in str(refused.value) and "trackwell login" in str(refused.value)
    result = cli("whoami", "--host", server.url)
    assert result.exit_code != 0 and "refused the API key from TRACKWELL_API_KEY" in result.output

    # Settings(api_key=...) wins over the environment
    run = trackwell.init(project="p", dir=tmp_path, reinit=True,
                         settings={"base_url": server.url, "api_key": good, "quiet": True, "console": "off"})
    run.log({"x": 1})
    run.finish(quiet=True)
    monkeypatch.delenv("TRACKWELL_API_KEY")
    assert Api(base_url=server.url).run(f"{run.entity}/p/{run.id}").summary["x"] == 1


@pytest.mark.parametrize("how", ["bad key", "no key"])
def test_online_init_with_a_bad_or_no_key_raises_and_writes_nothing(
        how: str, server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trackwell

    if how == "bad key":
        monkeypatch.setenv("TRACKWELL_API_KEY", BAD_KEY)
    else:
        _credentials.remove(server.url)
    with pytest.raises(AuthenticationError, match="trackwell login") as refused:
        trackwell.init(project="p", dir=tmp_path / "runs", reinit=True,
                       settings={"base_url": server.url, "quiet": True, "console": "off"})
    assert BAD_KEY not in str(refused.value)
    assert ("no API key" in str(refused.value)) == (how == "no key")
    assert not (tmp_path / "runs" / "trackwell").exists() or not any((tmp_path / "runs" / "trackwell").rglob("*.twj"))
    assert trackwell.run is None


def test_resume_with_a_bad_key_raises_authentication_error(server: LiveServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import trackwell

    monkeypatch.setenv("TRACKWELL_API_KEY", BAD_KEY)
    with pytest.raises(AuthenticationError):
        trackwell.init(project="p", id="resumeme", resume="allow", dir=tmp_path, reinit=True,
                       settings={"base_url": server.url, "quiet": True, "console": "off"})


def test_online_run_dir_holds_no_key(server: LiveServer, tmp_path: Path) -> None:
    import trackwell

    key = admin_key(server)
    run = trackwell.init(project="p", dir=tmp_path / "runs", reinit=True,
                         settings={"base_url": server.url, "quiet": True, "console": "off"})
    for step in range(10):
        run.log({"loss": 1 / (step + 1)})
    run.finish(quiet=True)
    written = tree_bytes(tmp_path / "runs")
    assert len(written) > 500 and key.split("_", 2)[2].encode() not in written


def test_sync_uses_the_current_login(server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trackwell

    key = admin_key(server)
    name = _credentials.load(server.url).user  # type: ignore[union-attr]
    monkeypatch.chdir(tmp_path)
    run = trackwell.init(mode="offline", project="synced", settings={"quiet": True, "console": "off",
                                                                     "base_url": server.url})
    assert run.entity == name  # offline, the default entity is still the login's
    for step in range(5):
        run.log({"loss": step})
    run.finish(quiet=True)

    _credentials.remove(server.url)
    result = cli("sync", "--base-url", server.url)
    assert result.exit_code != 0 and "trackwell login" in result.output

    assert cli("login", "--host", server.url, key).exit_code == 0
    result = cli("sync", "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert "synced" in result.output
    got = Api(base_url=server.url).run(f"synced/{run.id}")  # the entity from the login too
    assert got.entity == name and got.summary["loss"] == 4
