"""Console capture: the run's stdout and stderr as lines (``Console`` records), while the
original outputs still print everything. ``console="redirect"`` reads file descriptors 1/2
(C extensions and subprocesses included), ``"wrap"`` tees ``sys.stdout``/``sys.stderr``;
``"auto"`` (the default) is ``redirect`` where fds 1/2 are the process's real outputs and
``wrap`` elsewhere (notebooks, Windows, a test runner's captured streams)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from trackwell.sdk.console._redirect import FdRedirect
from trackwell.sdk.console._wrap import Emit, StreamWrap
from trackwell.sdk.errors import warn

__all__ = ["ConsoleCapture", "resolve_mode"]


def resolve_mode(mode: str) -> str:
    """``auto`` made concrete (W&B's rule: redirect unless the fds are not the streams)."""
    if mode != "auto":
        return mode
    if os.name == "nt" or "ipykernel" in sys.modules:
        return "wrap"
    try:
        real = sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: a StringIO-like stream
        real = False
    return "redirect" if real else "wrap"


class ConsoleCapture:
    def __init__(self, emit: Emit, mode: str = "wrap", backlog: Callable[[int], None] | None = None) -> None:
        self.mode = resolve_mode(mode)
        self._emit, self._backlog = emit, backlog
        self._impl: FdRedirect | StreamWrap = (FdRedirect(emit, backlog) if self.mode == "redirect"
                                               else StreamWrap(emit, backlog))

    def start(self) -> None:
        try:
            self._impl.start()
        except OSError as exc:  # no fds 1/2 to redirect (a daemon, closed descriptors)
            warn(f"trackwell: console='redirect' is not possible here ({exc}); capturing at the Python level")
            self.mode, self._impl = "wrap", StreamWrap(self._emit, self._backlog)
            self._impl.start()

    def stop(self) -> None:
        self._impl.stop()
