"""The signal grace in force: while a terminating signal is ending the process, the
``time.monotonic()`` by which every run must be finished (``settings.signal_grace``).

Set by the signal hook (``_state``), read when a run ends (``_base``'s ``__exit__``, atexit): a
floor below both, so neither imports the other.
"""

from __future__ import annotations

from trackwell.sdk import exits

_deadline: float | None = None


def begin(deadline: float) -> None:
    """A signal arrived: its grace ends at ``deadline``, unless a signal whose Python handler is
    running (and may raise, ending the process) already set one."""
    global _deadline
    if _deadline is None or exits.state.signal is None:
        _deadline = deadline


def deadline() -> float | None:
    """When a signal is ending the process (its Python handler raised), the time.monotonic() by
    which the runs must be finished; None otherwise."""
    return _deadline if exits.state.signal is not None else None
