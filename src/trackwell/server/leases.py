"""One owner per step: who may write a run, decided from its writers' leases.

A writer holds a lease on its run while it is heard from (records or heartbeats) within
``lease_timeout`` seconds and has not sent its ``Exit``. A second live writer is refused
(``WriterConflict``, HTTP 409) unless both asked for shared mode. A writer may name earlier
processes it continues (``after``: their journals were found dead on its disk): their leases do
not block it, and their late records are ordered before its own. A writer that went silent and
was taken over is fenced: its later batches are refused, because the new owner's steps start
where the run was when it took over.
"""

from __future__ import annotations

from collections.abc import Iterable

from trackwell.store.metadata import WriterRow

DEFAULT_LEASE_TIMEOUT = 90.0  # three SDK heartbeat intervals


class WriterConflict(Exception):
    """Another live writer owns the run (HTTP 409 ``writer_conflict``); the message says who."""

    def __init__(self, message: str, holder: WriterRow) -> None:
        super().__init__(message)
        self.holder = holder


def live(w: WriterRow, now: float, lease_timeout: float) -> bool:
    return not w.ended and w.lease_at is not None and now - w.lease_at < lease_timeout


def _compatible(a: WriterRow, b: WriterRow) -> bool:
    return a.shared and b.shared


def _how_to_share(path: str) -> str:
    return (f"only one process at a time writes run {path}: in distributed training log from rank 0 only, or "
            "init every process with settings={'mode': 'shared', 'label': 'rank-N'} to write one run together "
            "(each writer's history is kept apart under its label)")


def admit(new: WriterRow, others: Iterable[WriterRow], now: float, lease_timeout: float, path: str) -> None:
    """May ``new`` start writing? Raises ``WriterConflict`` naming the live holder."""
    for o in others:
        if o.writer == new.writer or o.writer in new.after or not live(o, now, lease_timeout):
            continue
        if not _compatible(new, o):
            age = now - (o.lease_at or now)
            raise WriterConflict(
                f"run {path} is being written by {o.describe()}, last heard {age:.0f} s ago; "
                f"{_how_to_share(path)}. If that process is dead, its lease expires "
                f"{max(0.0, lease_timeout - age):.0f} s after it was last heard", o)
        if new.is_primary and o.is_primary:
            raise WriterConflict(
                f"run {path} already has a primary shared writer, {o.describe()}; start the other writers with "
                "settings={'mode': 'shared', 'primary': False, 'label': ...}", o)


def fenced(me: WriterRow, others: Iterable[WriterRow], now: float, lease_timeout: float, path: str) -> None:
    """Refuse ``me`` if a live writer took the run over after ``me`` was last heard."""
    for o in others:
        if (o.writer != me.writer and me.writer not in o.after and not _compatible(me, o)
                and live(o, now, lease_timeout) and (o.claimed_at or 0.0) > (me.lease_at or 0.0)):
            raise WriterConflict(
                f"run {path} was taken over by {o.describe()} after this writer ({me.describe()}) went silent; "
                f"its records stay in its journal. {_how_to_share(path)}", o)
