"""The live run's uploader thread: tails the journal through a ``Delivery`` (delivery.py) into a
sink (sinks/), backs off across requests with a circuit breaker during outages, heartbeats
while idle. It never drops: whatever is not acknowledged stays in the journal on disk.

Pace: the writer wakes it after every drain (twice a second by default), but it sends at most one
batch per ``TRACKWELL_UPLOAD_INTERVAL`` (1 s) unless a full batch waits, so many runs on one
server cost it half the requests. A busy server sets the pace higher (``Ack.flush_interval``) or
answers 429: the uploader then waits the Retry-After and sends everything logged meanwhile in
one batch. Neither counts as an outage for the breaker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from trackwell._env import env_float
from trackwell.errors import AuthenticationError
from trackwell.schema import Ack
from trackwell.sdk.breaker import CircuitBreaker
from trackwell.sdk.delivery import Delivery, PlaceholderRefused
from trackwell.sdk.errors import warn
from trackwell.sdk.journal import JournalError, read_ack
from trackwell.sdk.sinks import Sink

__all__ = ["Uploader"]

_IDLE_POLL = 5.0  # the writer wakes us after each write; this only bounds a missed wake-up
_SEND_INTERVAL = 1.0  # default seconds between batches (TRACKWELL_UPLOAD_INTERVAL)
_FULL = 1000  # records waiting that go at once, whatever the pace (the transport's batch cap)
_MAX_PACE = 60.0  # the longest pace a server's hint can set
_UNREACHABLE_WAIT = 2.0  # seconds finish() gives a last probe of a server the breaker knows is down


class Uploader:
    """The live run's uploader thread: tails the journal, backs off across requests with a circuit
    breaker during outages, never drops (the journal on disk holds whatever is not acknowledged).

    ``on_state`` is called on this thread with ``Ack.state`` after every acknowledged batch
    (heartbeats included) that carries one. When nothing was acknowledged for
    ``heartbeat_interval`` seconds, an empty batch is sent as a heartbeat. ``send_interval``:
    the least time between batches (default ``TRACKWELL_UPLOAD_INTERVAL``, 1 s).
    """

    def __init__(self, journal: Path, sink: Sink, run_label: str, *,
                 on_state: Callable[[str], None] | None = None,
                 heartbeat_interval: float = 30.0, send_interval: float | None = None) -> None:
        self.sink = sink
        self.on_state = on_state
        self.heartbeat_interval = heartbeat_interval
        self.send_interval = (env_float("TRACKWELL_UPLOAD_INTERVAL", _SEND_INTERVAL) if send_interval is None
                              else send_interval)
        self.pace = self.send_interval  # raised while the server asks for fewer requests
        self.busy = 0  # requests the server answered 429 (waited out, never an outage)
        self.acked = read_ack(journal)
        self.failed: str | None = None  # why uploading stopped for good (a 4xx), if it did
        self.breaker = CircuitBreaker()
        self._journal = journal
        self._delivery: Delivery | None = None  # made on the thread: the first read can be slow
        self._label = run_label
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False
        self._probe_now = False  # finish() is waiting: try now, whatever the breaker's schedule
        self._warned = False
        self.refused_key = 0  # requests refused for the key (401): backed off, never dropped
        self._last_ack = time.monotonic()
        self._written = 0  # the last seq the writer reported
        self._round_at = float("-inf")  # when the last round started
        self._not_before = 0.0  # a 429's Retry-After runs out
        self._saturated = False  # a 429 since the last ack
        self._thread = threading.Thread(target=self._loop, name="trackwell-uploader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self, seq: int = 0) -> None:
        """The writer wrote up to ``seq`` (0: something else to send, e.g. run fields)."""
        self._written = max(self._written, seq)
        self._wake.set()

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Wait until the server acknowledged ``seq`` (False on timeout, a permanent failure, or
        the key refused again on this last try: waiting out the timeout would not help)."""
        refused = self.refused_key
        self._probe_now = True
        self._wake.set()
        with self._cond:
            self._cond.wait_for(lambda: self.acked >= seq or self.failed is not None
                                or self.refused_key > refused or not self._thread.is_alive(), timeout)
        return self.acked >= seq

    def delivered(self, seq: int, end: float) -> tuple[bool, bool]:
        """``finish()``'s wait: until the server has ``seq`` or ``time.monotonic()`` reaches
        ``end``; returns (delivered, the server is unreachable). Once the breaker is open
        (requests keep failing) only ``_UNREACHABLE_WAIT`` more seconds: the journal holds
        everything and `trackwell sync` delivers it later."""
        while True:
            if self.breaker.open:
                end = min(end, time.monotonic() + _UNREACHABLE_WAIT)
            if self.wait_for(seq, min(0.5, end - time.monotonic())):
                return True, False
            if time.monotonic() >= end or self.failed is not None:
                return False, self.breaker.open

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to end; wait at most ``timeout`` (it may be inside an HTTP request, and
        whatever it has not delivered is in the journal anyway)."""
        self._stopping = True
        self._wake.set()
        self._thread.join(max(0.0, timeout))

    # -- the thread -----------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            delivery = self._delivery = Delivery(self._journal, self.sink, on_ack=self._on_ack)
        except (OSError, JournalError, ValueError) as exc:
            self._give_up(f"cannot read the journal {self._journal}: {exc}")
            return
        while not self._stopping:
            self._wake.wait(self._sleep_time())
            self._wake.clear()
            if self._stopping:
                return
            if self._hold() > 0 and not self._probe_now:
                continue  # backing off or pacing: the writer's wake-ups wait for the next round
            self._probe_now = False
            self._round_at = time.monotonic()
            if not self._round(delivery):
                return

    def _hold(self) -> float:
        """Seconds until the next round may start: the breaker's backoff, else a 429's
        Retry-After and the pace (which a full batch waiting skips)."""
        if self.breaker.failures:
            return self.breaker.wait_time()
        now = time.monotonic()
        hold = self._not_before - now
        if self._written - self.acked < _FULL:
            hold = max(hold, self._round_at + self.pace - now)
        return max(0.0, hold)

    def _sleep_time(self) -> float:
        if self.breaker.failures or self._written > self.acked:
            return self._hold()
        return max(0.0, min(_IDLE_POLL, self._last_ack + self.heartbeat_interval - time.monotonic()))

    def _round(self, delivery: Delivery) -> bool:
        """One delivery round; False when uploading stopped for good."""
        from trackwell.transport import REFUSED, ServerError
        from trackwell.transport._client import TooManyRequests

        # While the breaker is open each request is a single-attempt probe: the breaker is the
        # retry layer then, so a failure is never retried by both layers. Likewise after a 429
        # until the next ack: we wait out the server's Retry-After, not the transport.
        delivery.retry = not self.breaker.open and not self._saturated
        try:
            sent = delivery.pump()
            if not sent and (self.breaker.failures or
                             time.monotonic() - self._last_ack >= self.heartbeat_interval):
                self._heartbeat(delivery)  # also the probe when there is nothing to send
        except AuthenticationError as exc:
            self._unauthorized(exc)
        except TooManyRequests as exc:
            self._busy(exc.retry_after)
        except ServerError as exc:
            if exc.status >= 500 or exc.status in (429, *REFUSED):
                self._failed(str(exc))
            else:
                self._give_up(f"the server rejected records of {self._label}: {exc.detail}")
                return False
        except Exception as exc:  # noqa: BLE001 - transport errors, refused placeholders: data is on disk
            self._failed(f"{type(exc).__name__}: {exc}")
        return True

    def _heartbeat(self, delivery: Delivery) -> None:
        from trackwell.transport import REFUSED, ServerError

        try:
            ack = self.sink.heartbeat(delivery.target, delivery.writer, retry=delivery.retry)
        except ServerError as exc:
            if exc.status in REFUSED:  # an empty batch cannot be too large or invalid: a proxy's doing
                raise PlaceholderRefused(f"the server refused a heartbeat ({exc})") from exc
            raise
        self._on_ack(ack, heartbeat=True)

    def _on_ack(self, ack: Ack, heartbeat: bool = False) -> None:
        self.breaker.success()
        self._saturated = False
        if self._delivery is not None:
            self._delivery.retry = True  # a probe got through: back to full retries
        self._last_ack = time.monotonic()
        self.pace = max(self.send_interval, min(ack.flush_interval or 0.0, _MAX_PACE))
        if not heartbeat:
            with self._cond:
                self.acked = self._delivery.acked if self._delivery else ack.applied_seq
                self._cond.notify_all()
        if ack.state is not None and self.on_state is not None:
            try:
                self.on_state(ack.state)
            except Exception as exc:  # noqa: BLE001 - a failing callback must not stop delivery
                warn(f"trackwell: the run-state callback failed ({type(exc).__name__}: {exc})")

    def _busy(self, retry_after: float | None) -> None:
        """429: the server is up but saturated. Wait what it asked (else the pace), sending single
        attempts until the next ack, so the wait is ours to schedule (finish() can cut it short);
        the next round sends everything logged meanwhile in one batch."""
        self.breaker.success()  # the server is up
        self._saturated = True
        self.busy += 1
        self._not_before = time.monotonic() + min(retry_after if retry_after is not None else self.pace, _MAX_PACE)

    def _failed(self, why: str) -> None:
        self.breaker.failure()
        if not self._warned and not self._stopping:  # after finish() gave up, stay quiet
            self._warned = True
            warn(f"trackwell: cannot upload {self._label} yet ({why}); the records are safe in the "
                 "journal and upload is retried in the background")

    def _unauthorized(self, exc: AuthenticationError) -> None:
        """The key was refused (revoked, expired, its user deactivated): keep everything in the
        journal, say so once, and probe only at the breaker's growing intervals (an admin may
        undo it; otherwise `trackwell sync` delivers with a good key later)."""
        self.breaker.failure()
        with self._cond:
            self.refused_key += 1
            self._cond.notify_all()
        if self.refused_key == 1 and not self._stopping:
            warn(f"trackwell: cannot upload {self._label}: {exc}. The records are safe in "
                 f"{self._journal.parent}; once the key is fixed, `trackwell sync "
                 f"{self._journal.parent}` delivers them")

    def _give_up(self, why: str) -> None:
        warn(f"trackwell: {why}. Uploading stopped; the data stays in {self._journal.parent} "
             "for `trackwell sync` once the problem is fixed")
        with self._cond:
            self.failed = why
            self._cond.notify_all()
