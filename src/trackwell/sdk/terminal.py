"""The SDK's own terminal path (W&B's ``wandb.termlog`` / ``termwarn`` / ``termerror``).

Every message the SDK has for a user goes to stderr through here, so neither
``warnings.filterwarnings("ignore")`` (common in ML scripts) nor a logging setup can hide that
data was skipped or is not on the server yet. ``quiet`` hides ``termlog`` (progress: "run ...
at URL"); ``silent`` hides ``termlog`` and ``termwarn``; ``termerror`` (data lost) always prints.
``init()`` sets both from the run's settings; before that ``TRACKWELL_SILENT`` / ``WANDB_SILENT``
and ``TRACKWELL_QUIET`` / ``WANDB_QUIET`` decide.
"""

from __future__ import annotations

import os
import sys

__all__ = ["configure", "termerror", "termlog", "termwarn"]

PREFIX = "trackwell: "
_levels: dict[str, bool] = {}  # "silent" / "quiet" once init() configured them


def configure(*, silent: bool, quiet: bool) -> None:
    _levels.update(silent=bool(silent), quiet=bool(quiet))


def _on(name: str) -> bool:
    if name in _levels:
        return _levels[name]
    for var in (f"TRACKWELL_{name.upper()}", f"WANDB_{name.upper()}"):
        raw = os.environ.get(var)
        if raw:
            return raw.strip().lower() in ("1", "true", "yes", "on")
    return False


def _write(text: str, prefix: bool) -> None:
    lines = str(text).split("\n")
    out = "\n".join((PREFIX + line if prefix else line) for line in lines)
    try:
        print(out, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed (a daemon's): nowhere left to say it
        pass


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """Progress and information: hidden by ``quiet`` and ``silent``."""
    if not (_on("silent") or _on("quiet")):
        _write(string, prefix)


def termwarn(string: str, repeat: bool = True, prefix: bool = True) -> None:
    """Something was skipped or degraded: hidden only by ``silent``."""
    if not _on("silent"):
        _write(f"WARNING {string}" if prefix else string, prefix)


def termerror(string: str, repeat: bool = True, prefix: bool = True) -> None:
    """Data was lost or cannot be delivered: always printed."""
    _write(f"ERROR {string}" if prefix else string, prefix)
