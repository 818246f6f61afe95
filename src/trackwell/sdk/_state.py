"""Process-wide SDK state: the live runs, the current one (``trackwell.run`` / ``.config`` /
``.summary``), and the hooks that end runs with the process: atexit, the excepthook, signals and
fork.

Signals: a terminating signal finishes every live run within ``settings.signal_grace`` (Kubernetes
sends SIGKILL 30 s after SIGTERM): the journal is flushed first, the server gets what is left of
the grace, the rest waits in the journal for ``trackwell sync``.

Fork: threads do not survive ``fork()``, so a forked child cannot record into its parent's run.
In the child every live run is orphaned: its calls are refused with one warning, and nothing of
the parent's (journal, lock, ``resume.json``, ``.synced``, the run's state) is touched at exit.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

from trackwell.sdk import _grace, exits, signals

if TYPE_CHECKING:
    from trackwell.sdk._base import RunBase
    from trackwell.sdk.settings import Settings

_current: RunBase | None = None
_live: list[RunBase] = []
_lock = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
_hooks_installed = False


def current() -> RunBase | None:
    return _current


def live() -> list[RunBase]:
    """The unfinished runs, oldest first (``reinit="create_new"`` makes several)."""
    return list(_live)


def activate(run: RunBase, current: bool = True) -> None:
    """``run`` is live and, if ``current``, becomes ``trackwell.run``."""
    global _current
    with _lock:
        if current:
            _current = run
        _live.append(run)
    if current:
        _publish(run)


def deactivate(run: RunBase) -> None:
    global _current
    with _lock:
        if run in _live:
            _live.remove(run)
        if _current is not run:
            return
        _current = None
    _publish(None)


def _publish(run: RunBase | None) -> None:
    module = sys.modules.get("trackwell")
    if module is not None:
        module.run = run  # type: ignore[attr-defined]
        module.config = run.config if run is not None else None  # type: ignore[attr-defined]
        module.summary = run.summary if run is not None else None  # type: ignore[attr-defined]


def install_hooks(s: Settings) -> None:
    """atexit finishes unfinished runs with the process's exit code; signals flush and finish.
    Only recording runs install them: a disabled run leaves the process as it found it."""
    global _hooks_installed
    if not _hooks_installed:
        _hooks_installed = True
        exits.install(_on_uncaught)
        atexit.register(_finish_all)
    signals.install(tuple(s.signals), tuple(s.preempt_signals), _on_signal)


def _on_uncaught(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> bool:
    if exits.state.stopped and issubclass(tp, KeyboardInterrupt):
        print("trackwell: exiting: the run was stopped from the server", file=sys.stderr, flush=True)
        return True  # no traceback: this interrupt was ours
    import traceback  # only when a run's process is failing: not worth a ms of every init

    lines = "".join(traceback.format_exception(tp, value, tb)).rstrip("\n").split("\n")
    for run in list(_live):
        try:
            run._record_traceback(lines)
        except Exception:  # noqa: BLE001, S110 - never disturb Python's own traceback print
            pass
    return False


def _on_signal(signum: int, preempt: bool, ending: bool) -> None:
    runs = list(_live)
    if not runs:
        return
    grace = min(float(run.settings.signal_grace or 20.0) for run in runs)
    deadline = time.monotonic() + grace
    _grace.begin(deadline)  # a Python handler that raises ends the process on this budget
    for run in runs:
        try:
            if preempt:
                run._mark_preempting(deadline)
            if ending:  # the default action is next: finish now, the resume file stays for "auto"
                run._finish(128 + signum, False, clean=False, deadline=deadline)
            else:
                run._flush(deadline)
        except Exception as exc:  # noqa: BLE001 - in a signal handler: report and go on
            print(f"trackwell: could not finish run {run.id} on signal {signum}: {exc}", file=sys.stderr)


def _finish_all() -> None:
    code = exits.process_exit_code()
    deadline = _grace.deadline()
    for run in list(_live):
        try:
            run._finish(code, False, clean=code == 0, deadline=deadline)
        except Exception as exc:  # noqa: BLE001 - at exit, report and keep going
            print(f"trackwell: could not finish run {run.id}: {exc}", file=sys.stderr)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()  # another thread of the parent may have held it at fork time
    parent = os.getppid()
    for run in _live:
        run._orphan(parent)
    _live.clear()  # atexit, signals and the excepthook leave the parent's runs alone


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
