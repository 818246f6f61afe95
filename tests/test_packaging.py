"""The base install is the client; the server stack is the `server` extra.

The `slow_install` tests build a fresh venv with `pip install <repo>` (real dependency
resolution, no --no-deps) and use it as a training node would: about 15 s here, so they run by
default; `-m "not slow_install"` skips them on a machine without the package registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from servers import LiveServer

from trackwell.cli import SERVER_EXTRA_MODULES

REPO = Path(__file__).resolve().parents[1]
# What a client must never load: the server extra's modules, and pandas (an optional extra).
NOT_FOR_CLIENTS = (*SERVER_EXTRA_MODULES, "pandas", "trackwell.server", "trackwell.store")


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment minus anything that points at the repo, a venv or a trackwell server; the
    session's credentials dir stays (the test servers' keys, and never the real ~/.config)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKWELL_", "PYTHONPATH", "VIRTUAL_ENV")) or k == "TRACKWELL_CONFIG_DIR"}
    return {**env, **extra}


def _loaded(code: str, cwd: Path, python: str = sys.executable) -> list[str]:
    """Run `code`, then list the NOT_FOR_CLIENTS modules the interpreter has loaded."""
    probe = (f"{code}\nimport sys, json\n"
             f"print(json.dumps([m for m in {NOT_FOR_CLIENTS!r} if m in sys.modules]))")
    proc = subprocess.run([python, "-c", probe], cwd=cwd, capture_output=True, text=True,
                          env=_clean_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("code", [
    "import trackwell",
    "import trackwell\ntrackwell.init(mode='offline', settings={'quiet': True}).finish()",
    "import trackwell\ntrackwell.Api(base_url='http://127.0.0.1:9')",
    "import trackwell.cli.sync",
    "import trackwell, trackwell.cli.sweep, trackwell.sdk.agent._process\nassert callable(trackwell.agent)",
], ids=["import", "offline-run", "api", "cli-sync", "sweep-agent"])
def test_client_paths_load_no_server_packages(code: str, tmp_path: Path) -> None:
    assert _loaded(code, tmp_path) == []


def test_server_check_covers_the_server_extra() -> None:
    """SERVER_EXTRA_MODULES (what `trackwell server` checks) names every package of the extra."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extra = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["server"]}
    modules = packages_distributions()
    checked = {canonicalize_name(dist) for m in SERVER_EXTRA_MODULES for dist in modules.get(m, [])}
    assert checked == extra
    base = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert not base & extra


# -- a fresh venv with only the base install ------------------------------------------------------

@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = tmp_path_factory.mktemp("base-install") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=_clean_env())
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(REPO)],
                         capture_output=True, text=True, env=_clean_env(), timeout=280)
    assert pip.returncode == 0, f"pip install {REPO} failed:\n{pip.stderr}"
    yield venv


def _venv_run(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, capture_output=True,
                          text=True, env=_clean_env(**env), timeout=120)


@pytest.mark.slow_install
def test_base_install_has_no_server_packages(base_venv: Path, tmp_path: Path) -> None:
    probe = ("import importlib.util, json\n"
             f"print(json.dumps([m for m in {NOT_FOR_CLIENTS[:-2]!r} if importlib.util.find_spec(m)]))")
    proc = _venv_run(base_venv, "python", "-c", probe, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    help_ = _venv_run(base_venv, "trackwell", "--help", cwd=tmp_path)
    assert help_.returncode == 0, help_.stderr
    assert "sync" in help_.stdout and "needs the server extra" in help_.stdout


@pytest.mark.slow_install
def test_base_install_logs_syncs_and_reads_back(base_venv: Path, live_server: LiveServer,
                                                tmp_path: Path) -> None:
    """Offline run, `trackwell sync --dry-run`, `trackwell sync`, an online run and Api reads,
    all from the client-only venv against a real server."""
    offline = ("import trackwell\n"
               "run = trackwell.init(project='light', mode='offline', settings={'quiet': True})\n"
               "for i in range(5): run.log({'loss': 1 / (i + 1)})\n"
               "print(run.id); run.finish()")
    proc = _venv_run(base_venv, "python", "-c", offline, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    offline_id = proc.stdout.split()[-1]

    dry = _venv_run(base_venv, "trackwell", "sync", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would sync" in dry.stdout and offline_id in dry.stdout

    real = _venv_run(base_venv, "trackwell", "sync", "--base-url", live_server.url, cwd=tmp_path)
    assert real.returncode == 0, real.stdout + real.stderr

    online = ("import trackwell\n"
              "run = trackwell.init(project='light', settings={'quiet': True})\n"
              "for i in range(3): run.log({'acc': i / 3})\n"
              "print(run.id); run.finish()")
    proc = _venv_run(base_venv, "python", "-c", online, cwd=tmp_path, TRACKWELL_BASE_URL=live_server.url)
    assert proc.returncode == 0, proc.stderr
    online_id = proc.stdout.split()[-1]

    read = ("import json, sys, trackwell\n"
            f"api = trackwell.Api(base_url={live_server.url!r})\n"
            "rows = {}\n"
            "for path, key in ((sys.argv[1], 'loss'), (sys.argv[2], 'acc')):\n"
            "    run = api.run(path)\n"
            "    rows[key] = [r[key] for r in run.scan_history(keys=[key])]\n"
            "    assert run.history(keys=[key], pandas=False) == list(run.scan_history(keys=[key]))\n"
            f"mods = [m for m in {NOT_FOR_CLIENTS!r} if m in sys.modules]\n"
            "print(json.dumps([rows, mods]))")
    # the offline run had no server, so no login: entity "default"; the online one is the login's
    proc = _venv_run(base_venv, "python", "-c", read, f"default/light/{offline_id}",
                     f"{live_server.entity}/light/{online_id}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows, loaded = json.loads(proc.stdout)
    assert rows == {"loss": [1 / (i + 1) for i in range(5)], "acc": [i / 3 for i in range(3)]}
    assert loaded == []


@pytest.mark.slow_install
@pytest.mark.parametrize("args", [
    ("trackwell", "server"),
    ("trackwell", "server", "--port", "8123", "--data-dir", "x"),
    ("trackwell", "server", "--help"),
    ("trackwell", "demo"),
    ("python", "-m", "trackwell", "server"),
], ids=lambda a: " ".join(a))
def test_server_commands_name_the_extra(base_venv: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = _venv_run(base_venv, *args, cwd=tmp_path)
    command = "demo" if "demo" in args else "server"
    assert proc.returncode != 0
    assert f"trackwell {command} needs the server extra: pip install 'trackwell[server]'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "x").exists()  # nothing was started or created
