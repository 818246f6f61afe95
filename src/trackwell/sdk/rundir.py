"""Run ids and run directories: ``<dir>/trackwell/run-YYYYmmdd_HHMMSS-<id>/`` like W&B's."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from trackwell.schema.names import run_id_problem
from trackwell.sdk.errors import UsageError
from trackwell.sdk.journal import journal_path

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

try:  # liveness lock: a crashed (even kill -9) writer releases it; absent on Windows
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


def generate_run_id() -> str:
    """8 lowercase base-36 chars (~2.8e12 values) from the OS's randomness."""
    n = int.from_bytes(os.urandom(8), "little")
    return "".join(_ALPHABET[(n >> (6 * i)) % 36] for i in range(8))


def validate_run_id(run_id: str) -> str:
    """Ids go into URLs and file names: the rule is ``schema.names``' (the server's too)."""
    problem = run_id_problem(run_id)
    if problem is not None:
        raise UsageError(problem)
    return run_id


@dataclass(frozen=True)
class RunDir:
    root: Path
    files: Path
    logs: Path
    journal: Path


def create_run_dir(base: str | os.PathLike[str] | None, run_id: str, offline: bool,
                   started: float) -> RunDir:
    top = runs_root(base)
    prefix = "offline-run" if offline else "run"
    name = f"{prefix}-{time.strftime('%Y%m%d_%H%M%S', time.localtime(started))}-{run_id}"
    root = top / name
    n = 1
    while root.exists():  # same id re-initialised within one second: never append to a journal
        root = top / f"{name}-{n}"
        n += 1
    files, logs = root / "files", root / "logs"
    files.mkdir(parents=True)
    logs.mkdir()
    _point_latest(top, root)
    return RunDir(root, files, logs, journal_path(root, run_id))


def _point_latest(top: Path, root: Path) -> None:
    link = top / "latest-run"
    tmp = top / f".latest-run.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(root.name)
    except (OSError, NotImplementedError):  # no symlinks (Windows without privilege): a file
        tmp.write_text(str(root))
    try:
        if link.is_dir() and not link.is_symlink():
            return  # something the user made; leave it alone
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)


def runs_root(base: str | os.PathLike[str] | None) -> Path:
    return Path(base if base is not None else os.getcwd()) / "trackwell"


def resume_file(base: str | os.PathLike[str] | None) -> Path:
    """``<dir>/trackwell/resume.json``: the id ``resume="auto"`` picks up after an unclean end."""
    return runs_root(base) / "resume.json"


def read_resume_id(base: str | os.PathLike[str] | None) -> str | None:
    try:
        run_id = json.loads(resume_file(base).read_text()).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return run_id if run_id_problem(run_id) is None else None


def write_resume_id(base: str | os.PathLike[str] | None, run_id: str, entity: str, project: str) -> None:
    path = resume_file(base)
    tmp = path.with_name(f".resume.{os.getpid()}.json")
    tmp.write_text(json.dumps({"run_id": run_id, "entity": entity, "project": project}))
    os.replace(tmp, path)


def clear_resume_id(base: str | os.PathLike[str] | None, run_id: str) -> None:
    """Remove the file if it still names this run (a later run from the same dir may own it)."""
    if read_resume_id(base) == run_id:
        resume_file(base).unlink(missing_ok=True)


def earlier_journals(base: str | os.PathLike[str] | None, run_id: str) -> list[Path]:
    """Journals of ``run_id`` under ``<dir>/trackwell`` not marked synced: a resume delivers them
    first, so the server's last step is really the last step."""
    root = runs_root(base)
    if not root.is_dir():
        return []
    found = sorted(root.glob(f"*-{run_id}*/{journal_path('.', run_id).name}"))
    return [j for j in found if not j.with_name(j.name + ".synced").exists()]


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")


def hold_writer_lock(journal: Path) -> int | None:
    """Lock held for the writer's lifetime; `trackwell sync` uses it to tell live from crashed."""
    if fcntl is None:  # pragma: no cover
        return None
    fd = os.open(lock_path(journal), os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def release_writer_lock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing drops the flock


def writer_alive(journal: Path) -> bool:
    """True while a process still holds the journal's writer lock."""
    if fcntl is None or not lock_path(journal).exists():  # pragma: no cover
        return False
    fd = os.open(lock_path(journal), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
