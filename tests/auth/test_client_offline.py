"""Client-side auth that needs no server: where the default entity comes from, what an offline
run writes to disk (never a key), and what ``trackwell.errors`` costs to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import client_helpers
import pytest
from client_helpers import tree_bytes

import trackwell
from trackwell import _credentials
from trackwell.sdk.settings import DEFAULT_BASE_URL, Settings

STORED = "tw_stored01_" + "s" * 43
FROM_ENV = "tw_fromenv_" + "e" * 43
GIVEN = "tw_givenkk_" + "g" * 43

config_dir = client_helpers.config_dir  # autouse: this test's own credentials directory


def offline_entity(tmp_path: Path, entity: str | None = None) -> str:
    run = trackwell.init(mode="offline", dir=tmp_path / "runs", entity=entity, reinit=True,
                         settings={"quiet": True, "console": "off"})
    entity = run.entity
    run.finish(quiet=True)
    return entity


def test_default_entity_is_the_logins_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert offline_entity(tmp_path) == "default"  # no login at all
    _credentials.save(DEFAULT_BASE_URL, _credentials.Credential(STORED, "alice", "alice"))
    assert offline_entity(tmp_path) == "alice"  # offline too: read from the file, no network
    monkeypatch.setenv("TRACKWELL_ENTITY", "team-env")
    assert offline_entity(tmp_path) == "team-env"
    assert offline_entity(tmp_path, entity="explicit") == "explicit"


def test_the_logins_entity_goes_with_the_logins_key_and_server(monkeypatch: pytest.MonkeyPatch) -> None:
    _credentials.save(DEFAULT_BASE_URL, _credentials.Credential(STORED, "alice", "alice"))
    assert Settings().resolve().entity == "alice"
    assert Settings(api_key=STORED).resolve().entity == "alice"
    assert Settings(api_key=GIVEN).resolve().entity == "default"  # someone else's key: not alice's
    assert Settings(base_url="http://127.0.0.1:9999").resolve().entity == "default"  # another server
    # one entry however the URL is spelled
    assert Settings(base_url="HTTP://127.0.0.1:8080/").resolve().entity == "alice"
    monkeypatch.setenv("TRACKWELL_API_KEY", FROM_ENV)
    assert Settings().resolve().entity == "default"


def test_offline_run_dir_holds_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever way the key was given, the journal, resume file and run dir never record it."""
    _credentials.save(DEFAULT_BASE_URL, _credentials.Credential(STORED, "alice", "alice"))
    monkeypatch.setenv("TRACKWELL_API_KEY", FROM_ENV)
    run = trackwell.init(mode="offline", dir=tmp_path / "runs", project="p", config={"lr": 0.1},
                         settings={"quiet": True, "console": "auto", "api_key": GIVEN})
    print("some output the console capture journals")
    for step in range(20):
        run.log({"loss": 1 / (step + 1)})
    run.finish(quiet=True)
    written = tree_bytes(tmp_path / "runs")
    # the search below did see the journal: its console line, and the rows (20 blocks' worth of bytes)
    assert b"some output" in written and b"loss" in written and len(written) > 500
    for key in (STORED, FROM_ENV, GIVEN):
        secret = key.split("_", 2)[2].encode()
        assert secret not in written and key.encode() not in written


def test_errors_module_is_light_and_re_exports_usage_error() -> None:
    probe = ("import json, sys\nimport trackwell.errors as e\n"
             "light = [m for m in ('httpx', 'trackwell.sdk', 'trackwell.transport') if m in sys.modules]\n"
             "from trackwell.errors import UsageError\nfrom trackwell.sdk.errors import UsageError as U\n"
             "print(json.dumps({'loaded': light, 'same': UsageError is U}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"loaded": [], "same": True}


def test_error_hierarchy() -> None:
    from trackwell.errors import AuthenticationError, CommError, Error, PermissionDenied
    from trackwell.transport import ServerError, TransportError
    from trackwell.transport._client import Forbidden, Unauthorized

    assert issubclass(Unauthorized, AuthenticationError) and issubclass(Unauthorized, ServerError)
    assert issubclass(Forbidden, PermissionDenied) and issubclass(PermissionDenied, CommError)
    assert issubclass(TransportError, CommError) and issubclass(ServerError, CommError)
    assert issubclass(AuthenticationError, Error)
    exc = Forbidden(403, "read-only key", {}, "refused")
    assert exc.status == 403 and str(exc) == "refused" and exc.detail == "read-only key"
    assert ServerError(500, "boom").status == 500 and str(ServerError(500, "boom")) == "HTTP 500: boom"
    assert TransportError("down").status is None
