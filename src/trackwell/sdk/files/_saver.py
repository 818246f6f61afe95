"""``run.save``: which files belong to the run, and when each is staged and journaled.

Policies as W&B's: ``"now"`` copies the file into ``run.dir`` and records it at once; ``"live"``
links it into ``run.dir``, records it now and again whenever it changes (checked every few
seconds) and at the end; ``"end"`` links it and records it when the run finishes. At finish,
every file under ``run.dir`` (what the user wrote there too) is recorded if it is new or changed.
"""

from __future__ import annotations

import glob
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from trackwell.schema.files import file_name_problem
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.files._stage import stage

POLICIES = ("live", "now", "end")
LIVE_INTERVAL = 5.0

Emit = Callable[[str, str, int], None]  # (name, digest, size): journal a FileSaved record


class FileSaver:
    def __init__(self, run_root: Path, files_dir: Path, emit: Emit, on_staged: Callable[[], None] | None = None,
                 live_interval: float | None = None) -> None:
        self.run_root, self.files_dir = run_root, files_dir
        self._emit, self._on_staged = emit, on_staged
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) when last recorded
        self._live: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = LIVE_INTERVAL if live_interval is None else live_interval
        self._watcher: threading.Thread | None = None

    def save(self, glob_str: str | os.PathLike[str], base_path: str | os.PathLike[str] | None = None,
             policy: str = "live") -> list[str]:
        """Link (or copy, for ``"now"``) the matching files into ``run.dir``; returns their paths there."""
        if policy not in POLICIES:
            raise UsageError(f"save(policy={policy!r}): policy must be one of {', '.join(POLICIES)}")
        pattern = os.path.abspath(os.fspath(glob_str))
        if base_path is None:
            # W&B: a relative glob keeps its folders (relative to the working directory)
            base_path = os.path.dirname(pattern) if os.path.isabs(os.fspath(glob_str)) else os.getcwd()
        base = os.path.abspath(os.fspath(base_path))
        matches = [Path(p) for p in sorted(glob.glob(pattern, recursive=True)) if os.path.isfile(p)]
        if not matches:
            warn(f"trackwell: save({os.fspath(glob_str)!r}) matched no file (yet); nothing saved")
        saved = []
        for source in matches:
            name = self._name_of(source, base)
            target = self.files_dir / name
            self._place(source, target, copy=policy == "now")
            saved.append(str(target))
            if policy in ("now", "live"):
                self._record(name, target)
            if policy == "live":
                self._watch(name)
        return saved

    def _name_of(self, source: Path, base: str) -> str:
        inside = self.files_dir.resolve()
        resolved = source.resolve()
        rel = (os.path.relpath(resolved, inside) if resolved.is_relative_to(inside)
               else os.path.relpath(os.path.abspath(source), base))
        name = Path(rel).as_posix()
        if name.startswith("../"):
            raise UsageError(f"save({str(source)!r}, base_path={base!r}): the file is not under base_path; "
                             "give a base_path that contains it")
        problem = file_name_problem(name)
        if problem is not None:
            raise UsageError(f"save({str(source)!r}): {problem}")
        return name

    @staticmethod
    def _place(source: Path, target: Path, copy: bool) -> None:
        if target.resolve() == source.resolve():
            return  # already in run.dir
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        if copy:
            shutil.copy2(source, target)
            return
        try:
            target.symlink_to(source.resolve())
        except OSError:  # no symlinks here: a copy, refreshed at finish from the source
            shutil.copy2(source, target)

    def _record(self, name: str, path: Path) -> None:
        """Stage and journal ``name`` if it is new or changed since it was last recorded."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        mark = (st.st_size, st.st_mtime_ns)
        with self._lock:
            if self._seen.get(name) == mark:
                return
            digest, size = stage(path, self.run_root)
            self._seen[name] = mark
            self._emit(name, digest, size)
        if self._on_staged is not None:
            self._on_staged()

    def record_staged(self, name: str, digest: str, size: int) -> None:
        """A file made by the SDK (media) and already staged: journal it."""
        with self._lock:
            self._seen[name] = (-1, -1)
            self._emit(name, digest, size)
        if self._on_staged is not None:
            self._on_staged()

    def _watch(self, name: str) -> None:
        with self._lock:
            self._live.add(name)
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._poll, name="trackwell-live-files", daemon=True)
                self._watcher.start()

    def _poll(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                names = sorted(self._live)
            for name in names:
                self._record(name, self.files_dir / name)

    def finish(self) -> None:
        """Stop watching and record every new or changed file under ``run.dir``."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
        for path in sorted(self.files_dir.rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(self.files_dir).parts):
                name = path.relative_to(self.files_dir).as_posix()
                if file_name_problem(name) is None:
                    self._record(name, path)
