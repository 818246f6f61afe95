"""``run.log_code()`` (and ``init(save_code=True)``): the run's source files, copied under the
run's files directory (``<run.dir>/code/``) so the code that made a run stays with it. Uploading
run files to the server is the files issue's; until then they are on this disk only."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

_SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "trackwell", "wandb"})


def _python_file(path: str, root: str) -> bool:
    return path.endswith(".py")


def _nothing(path: str, root: str) -> bool:
    return False


def copy_code(run_dir: str, root: str | os.PathLike[str] = ".", name: str | None = None,
              include_fn: Callable[[str, str], bool] = _python_file,
              exclude_fn: Callable[[str, str], bool] = _nothing) -> list[str]:
    """Copy the files under ``root`` that ``include_fn(path, root)`` accepts and ``exclude_fn``
    does not (W&B's signature) to ``<run_dir>/code/<name>/``; returns the copies' paths.
    Version control, virtualenv and run directories are never walked."""
    root = os.path.abspath(root)
    dest = os.path.join(run_dir, "code", *([name] if name else []))
    copied: list[str] = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for file in sorted(files):
            path = os.path.join(top, file)
            if not include_fn(path, root) or exclude_fn(path, root):
                continue
            target = os.path.join(dest, os.path.relpath(path, root))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(path, target)
            copied.append(target)
    return copied
