"""Signal handlers: SIGTERM, SIGINT, SIGUSR1 by default (``settings.signals``).

On a signal the journal is flushed first, so nothing logged is lost whatever happens next. Then
the handler that was there before is honoured: a Python handler (SIGINT's KeyboardInterrupt, a
framework's requeue handler) is called and decides; the default action (terminate) is carried
out after the run finished with exit code 128 + signum, by re-raising the signal with its
default disposition, so the parent sees the same wait status as without trackwell. Signals the
process ignores stay ignored. For ``settings.preempt_signals`` the run is marked preempting first.
Finishing on a signal is bounded by ``settings.signal_grace`` (``_state._on_signal``): what the
server has not acknowledged by then stays in the journal for ``trackwell sync``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from trackwell.sdk import exits

# on_signal(signum, preempt, ending): ending means the default action is about to end the process
OnSignal = Callable[[int, bool, bool], None]

_previous: dict[int, Any] = {}
_preempt: set[int] = set()
_on_signal: OnSignal | None = None


def install(names: tuple[str, ...], preempt: tuple[str, ...], on_signal: OnSignal) -> None:
    """Handle ``names`` (from the main thread only: Python's rule; elsewhere this does nothing)."""
    global _on_signal
    if threading.current_thread() is not threading.main_thread():
        return
    _on_signal = on_signal
    _preempt.update(signal.Signals[n] for n in preempt)
    for name in names:
        signum = signal.Signals[name]
        current = signal.getsignal(signum)
        if current is _handle or current in (signal.SIG_IGN, None):  # None: set outside Python
            continue
        try:
            signal.signal(signum, _handle)
        except (OSError, ValueError):  # e.g. SIGKILL-like or unsupported here
            continue
        _previous[signum] = current


def _handle(signum: int, frame: FrameType | None) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    ending = not callable(previous)
    if _on_signal is not None and not (exits.state.stopped and signum == signal.SIGINT):
        _on_signal(signum, signum in _preempt, ending)
    if not ending:
        exits.state.signal = signum  # if it raises KeyboardInterrupt, that is this signal's doing
        previous(signum, frame)
        exits.state.signal = None  # it returned: the process goes on
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
