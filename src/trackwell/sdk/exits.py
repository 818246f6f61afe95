"""How the process ends, turned into the run's exit code (docs/lifecycle.md, "Exit codes").

- ``sys.exit(n)`` and ``raise SystemExit(n)`` record n. ``raise SystemExit`` never reaches
  ``sys.exit`` or ``sys.excepthook`` (W&B records 0 for it), so the SDK installs a ``SystemExit``
  subclass as the builtin name, and ``sys.exit`` raises it: each one remembers itself.
  Whether it really ended the process is read off the ``__main__`` frame at exit: a frame that
  returned normally means it was caught.
- An uncaught exception records 1 (``sys.excepthook``); ``KeyboardInterrupt`` 255 like W&B, or
  128 + SIGINT when a real SIGINT raised it.
"""

from __future__ import annotations

import builtins
import dis
import signal
import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, NoReturn

_RETURNS = {dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap}
_Original = builtins.SystemExit


class _State:
    uncaught: int | None = None  # from the excepthook
    system_exit: BaseException | None = None  # the last SystemExit raised
    signal: int | None = None  # a signal whose Python handler is running (it may raise)
    stopped: bool = False  # the server stopped the run: the KeyboardInterrupt is ours
    main_frame: FrameType | None = None
    installed: bool = False


state = _State()


class _RecordingSystemExit(_Original):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        state.system_exit = self


_RecordingSystemExit.__name__ = _RecordingSystemExit.__qualname__ = "SystemExit"
_RecordingSystemExit.__module__ = "builtins"  # reprs and tracebacks read as before


def _exit(status: object = None) -> NoReturn:
    raise _RecordingSystemExit() if status is None else _RecordingSystemExit(status)


def system_exit_code(exc: BaseException) -> int:
    code = getattr(exc, "code", None)
    if code is None:
        return 0
    return code if isinstance(code, int) else 1  # a message: Python prints it and exits 1


def code_for(exc: BaseException) -> int:
    """The exit code an exception ending the run stands for."""
    if isinstance(exc, _Original):  # not the builtin name: that is our subclass once installed
        return system_exit_code(exc)
    if isinstance(exc, KeyboardInterrupt):
        if state.signal == signal.SIGINT and not state.stopped:
            return 128 + signal.SIGINT
        return 255
    return 1


def process_exit_code() -> int:
    """At interpreter exit: the code the process is ending with."""
    if state.uncaught is not None:
        return state.uncaught
    frame = state.main_frame
    if frame is not None and frame.f_code.co_code[frame.f_lasti] in _RETURNS:
        return 0  # __main__ ran to its end: any SystemExit seen was caught
    return system_exit_code(state.system_exit) if state.system_exit is not None else 0


def _find_main_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    found = None
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            found = frame
        frame = frame.f_back
    return found


def install(on_uncaught: Callable[[type[BaseException], BaseException, TracebackType | None], bool]) -> None:
    """Once per process. ``on_uncaught`` runs first in the excepthook; True suppresses the
    default traceback print (a run stopped from the server exits with a message instead)."""
    if state.installed:
        return
    state.installed = True
    state.main_frame = _find_main_frame()
    builtins.SystemExit = _RecordingSystemExit  # type: ignore[misc]
    sys.exit = _exit
    previous = sys.excepthook

    def excepthook(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        state.uncaught = code_for(value)
        if not on_uncaught(tp, value, tb):
            previous(tp, value, tb)

    sys.excepthook = excepthook


def recorded_exit_code(code: int | None) -> int:
    """The code to record: a process's exit status fits 32 bits (the server's column); anything
    else (``finish(exit_code=2**40)``) is recorded as 1, a failure, rather than refused."""
    if code is None:
        return 0
    code = int(code)
    return code if -(2**31) <= code < 2**31 else 1


def ended_as(code: int) -> str:
    """How the finish message names the run's end (the state the server gives it, from the code)."""
    if code == 0:
        return "finished"
    if state.stopped:
        return "was stopped from the server"
    if code > 128 and code - 128 in {s.value for s in signal.Signals}:
        return f"was ended by {signal.Signals(code - 128).name} (failed, exit code {code})"
    return f"failed (exit code {code})"
