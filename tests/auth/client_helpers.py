"""Shared by the client-side auth tests (login, keys, the SDK with keys): an isolated credentials
directory per test, real servers that bootstrap their admin into it, the CLI run in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import LiveServer, start_server

from trackwell import _credentials
from trackwell.cli import main

# Variables that would make a test depend on the shell that runs it.
_CLIENT_ENV = ("TRACKWELL_API_KEY", "TRACKWELL_ENTITY", "TRACKWELL_BASE_URL", "TRACKWELL_PROJECT",
               "TRACKWELL_MODE", "TRACKWELL_DIR")


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's credentials directory (never the user's own); no TRACKWELL_* client settings."""
    for name in _CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config"
    monkeypatch.setenv("TRACKWELL_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def server(tmp_path: Path, config_dir: Path) -> Iterator[LiveServer]:
    """A fresh server: its first start creates the admin and stores the key in ``config_dir``."""
    live = start_server(tmp_path / "server")
    yield live
    live.stop()


def admin_key(live: LiveServer) -> str:
    stored = _credentials.load(live.url)
    assert stored is not None, f"the server did not store its admin's key:\n{live.log()}"
    return stored.api_key


def cli(*args: str, input: str | None = None) -> Result:
    """``trackwell ARGS`` in this process (the environment as the test set it; a terminal wide
    enough that rich's tables do not wrap the cells the tests look for)."""
    return CliRunner().invoke(main, list(args), input=input, env={"COLUMNS": "200"}, catch_exceptions=False)


def cli_json(*args: str) -> object:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def tree_bytes(root: Path) -> bytes:
    """Every file under ``root``, concatenated (for "does any file hold this secret?")."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
