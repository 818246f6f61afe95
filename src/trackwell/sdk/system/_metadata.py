"""The run's metadata: what it ran on and from what code. Collected on the sampler thread (the
git commands take a few ms each: never in ``init()``), sent once as a ``RunMetadata`` record."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_GIT_TIMEOUT = 5.0
_MB = 1024.0 * 1024.0


def collect(psutil: Any | None, gpu: dict[str, Any]) -> dict[str, Any]:
    """Host, OS, Python, program and args, git, CPU/memory (``psutil`` may be None) and ``gpu``."""
    program = main_program()
    meta: dict[str, Any] = {
        "host": platform.node(), "os": platform.platform(), "python": platform.python_version(),
        "python_implementation": platform.python_implementation(), "executable": sys.executable,
        "program": program, "args": [str(a) for a in sys.argv[1:]], "cwd": os.getcwd(), "pid": os.getpid(),
        "started_at": time.time(), "cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
    }
    if psutil is not None:
        meta["cpu_count_physical"] = psutil.cpu_count(logical=False)
        meta["memory_total_mb"] = round(psutil.virtual_memory().total / _MB)
    meta.update(gpu)
    git = git_info(Path.cwd())  # W&B's choice: the checkout the run was started from
    if git:
        meta["git"] = git
    return {k: v for k, v in meta.items() if v is not None}


def git_info(where: Path) -> dict[str, Any]:
    """Commit, branch, remote (without credentials) and dirty flag of the checkout ``where`` is
    in; empty outside one or without git."""
    if shutil.which("git") is None:
        return {}
    parsed = _git(where, "rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD")  # one process, 3 lines
    if parsed is None or len(parsed.splitlines()) != 3:
        return {}
    root, commit, branch = parsed.splitlines()
    info: dict[str, Any] = {"commit": commit, "root": root}
    if branch != "HEAD":  # "HEAD": a detached checkout has no branch
        info["branch"] = branch
    remote = _git(where, "config", "--get", "remote.origin.url")
    if remote:
        info["remote"] = strip_credentials(remote)
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["dirty"] = bool(status)
    return {k: v for k, v in info.items() if v is not None}


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x.git`` -> ``https://host/x.git``: a remote's URL may hold a
    token, and the metadata is shown to everyone who can read the run."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url)


def main_program() -> str | None:
    return sys.argv[0] if sys.argv and sys.argv[0] else None


def save_code(program: str | None, files_dir: Path) -> str | None:
    """Copy the main script to ``<run files>/code/<name>``; its path in the run's files, or None
    (no script: an interactive session or ``python -c``)."""
    script = _script(program)
    if script is None:
        return None
    target = files_dir / "code" / script.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, target)
    return f"code/{script.name}"


def _script(program: str | None) -> Path | None:
    if not program or program in ("-c", "-m"):
        return None
    path = Path(program)
    return path.resolve() if path.is_file() else None


def _git(where: Path, *args: str) -> str | None:
    try:
        # --no-optional-locks: `status` must not rewrite the user's index while they work
        done = subprocess.run(["git", "--no-optional-locks", *args], cwd=where, capture_output=True, text=True, timeout=_GIT_TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None
