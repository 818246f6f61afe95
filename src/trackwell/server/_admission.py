"""Admission control for ingest: a bounded number of batches applied at once, a bounded queue
behind them, a fair share per run while saturated, and 429 with Retry-After past that.

Without it every batch takes a worker thread at once and waits there on the stores' locks: with
hundreds of runs uploading, the thread pool fills with waiting batches, reads (the runs list, a
chart) queue behind them, and clients time out and resend, which adds load. Here at most
``concurrency`` batches hold a thread; up to ``queue`` more wait without one, each at most
``queue_timeout`` seconds; others are answered 429 at once, before their body is read into a
batch.

The server measures its rate: batches applied per second while every slot was taken (until
then, per second with any batch in flight): the rate it can give, not the rate it was asked for,
and not lowered by refusing. With the number of runs uploading that gives the *cadence* every
run can have: one batch per ``active runs / (0.8 * rate)`` seconds. While the server is
saturated, a run that sends sooner is answered 429 with the rest of its interval as Retry-After,
so a few fast runs cannot fill the queue while the others starve; the refused run sends
everything it logged meanwhile in one larger batch, which is what lets the server keep up (a
batch's cost is mostly fixed). ``flush_interval()`` is the same cadence as a hint in acks, so
clients that follow it are never refused at all.
"""

from __future__ import annotations

import math
import os
import random
import re
import time

import anyio
import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CONCURRENCY = 4  # the stores serialize writes: more threads only wait on their locks
DEFAULT_QUEUE = 100
DEFAULT_QUEUE_TIMEOUT = 10.0
MAX_RETRY_AFTER = 60
_ACTIVE_WINDOW = 60.0  # a run that sent a batch this recently counts as uploading
_HEADROOM = 0.8  # the cadence leaves a fifth of the rate for retries, bursts and new runs
_SLACK = 0.9  # a run's next batch is on time after this much of the cadence

_INGEST_PATH = re.compile(r"/api/v1/runs/[^/]+/[^/]+/[^/]+/records")


class IngestAdmission:
    """The controller: who may send now, the rate it measures, and the figures clients are told.
    One per app, used from the event loop only."""

    def __init__(self, concurrency: int = DEFAULT_CONCURRENCY, queue: int = DEFAULT_QUEUE,
                 queue_timeout: float = DEFAULT_QUEUE_TIMEOUT) -> None:
        self.limiter = anyio.CapacityLimiter(max(1, concurrency))
        self.queue = max(0, queue)
        self.queue_timeout = queue_timeout
        self.rate: float | None = None  # batches/s it can apply
        self._rate_full = False  # the rate was measured with every slot taken
        self._seen: dict[str, float] = {}  # run path -> its last batch, admitted or not
        self._admitted: dict[str, float] = {}  # run path -> when its last batch was admitted
        self._pruned = time.monotonic()
        self._window_start = time.monotonic()
        self._busy_since: float | None = None  # a batch has been in flight since
        self._full_since: float | None = None  # every slot has been taken since
        self._window_done = 0
        self._window_busy = 0.0  # seconds of this window with a batch in flight
        self._window_full = 0.0  # ... with every slot taken

    @classmethod
    def from_env(cls) -> IngestAdmission:
        """Limits from ``TRACKWELL_INGEST_CONCURRENCY``, ``TRACKWELL_INGEST_QUEUE`` and
        ``TRACKWELL_INGEST_QUEUE_TIMEOUT`` (unset: the defaults above)."""
        env = os.environ.get
        return cls(int(env("TRACKWELL_INGEST_CONCURRENCY") or DEFAULT_CONCURRENCY),
                   int(env("TRACKWELL_INGEST_QUEUE") or DEFAULT_QUEUE),
                   float(env("TRACKWELL_INGEST_QUEUE_TIMEOUT") or DEFAULT_QUEUE_TIMEOUT))

    @property
    def in_flight(self) -> int:
        return int(self.limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        return self.limiter.statistics().tasks_waiting

    @property
    def saturated(self) -> bool:
        """Every slot is taken: a batch arriving now waits (or is refused)."""
        return self.limiter.borrowed_tokens >= self.limiter.total_tokens

    def active_runs(self) -> int:
        now = time.monotonic()
        if now - self._pruned > 5.0:
            self._seen = {run: t for run, t in self._seen.items() if now - t < _ACTIVE_WINDOW}
            self._admitted = {run: t for run, t in self._admitted.items() if now - t < _ACTIVE_WINDOW}
            self._pruned = now
        return len(self._seen)

    def cadence(self) -> float | None:
        """Seconds between one run's batches that the measured rate sustains for every active
        run (None until it has measured its rate)."""
        if not self.rate:
            return None
        return self.active_runs() / (_HEADROOM * self.rate)

    def flush_interval(self) -> float | None:
        """The hint for an ack: None while clients' own pace (a second or so) is sustainable."""
        cadence = self.cadence()
        return round(cadence, 1) if cadence is not None and cadence > 1.0 else None

    def too_soon(self, run: str) -> float:
        """Seconds ``run`` should still wait for its share (0: admit it); only while saturated.
        A tenth of the cadence is forgiven: a client keeping the hinted pace is never refused."""
        cadence = self.cadence()
        last = self._admitted.get(run)
        if not self.saturated or cadence is None or last is None:
            return 0.0
        return max(0.0, last + _SLACK * cadence - time.monotonic())

    def retry_after(self, at_least: float | None = None) -> int:
        """Whole seconds (what the header allows), jittered so refused runs do not come back
        together: ``at_least`` (the rest of a run's share), else about the time the batches
        now in flight and queued take (a run turned away by a full queue tries again soon: the
        runs that just had their turn are held back by their share, so it gets in)."""
        if at_least is not None:
            seconds = at_least + random.random()
        else:
            backlog = (self.in_flight + self.waiting) / self.rate if self.rate else 1.0
            seconds = backlog * (0.5 + random.random())
        return max(1, min(MAX_RETRY_AFTER, math.ceil(seconds)))

    def saw(self, run: str) -> None:
        self._seen[run] = time.monotonic()

    def admitted(self, run: str, arrived: float) -> None:
        """``run``'s batch, which ``arrived`` then, got a slot (call before it is applied). Its
        share counts from its arrival: clients space their requests' starts, not their slots."""
        self._admitted[run] = arrived
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
        if self._full_since is None and self.saturated:
            self._full_since = now

    def done(self) -> None:
        """A batch was applied (its slot already released). About once a second the window
        gives a rate: batches per second if every slot was taken most of it (what it applied is
        what it can), else, until such a window came, batches per busy second (a floor: with
        one batch at a time the stores' overlap goes unused)."""
        now = time.monotonic()
        self._window_done += 1
        if self._busy_since is not None and not self.in_flight:
            self._window_busy += now - self._busy_since
            self._busy_since = None
        if self._full_since is not None and not self.saturated:
            self._window_full += now - self._full_since
            self._full_since = None
        elapsed = now - self._window_start
        if elapsed < 1.0:
            return
        busy = self._window_busy + (now - self._busy_since if self._busy_since is not None else 0.0)
        full = self._window_full + (now - self._full_since if self._full_since is not None else 0.0)
        if self._window_done >= 5:  # fewer is noise
            if full >= 0.8 * elapsed:
                self._measured(self._window_done / elapsed, full=True)
            elif not self._rate_full and busy > 0:
                self._measured(self._window_done / busy, full=False)
        self._window_start, self._window_done, self._window_busy, self._window_full = now, 0, 0.0, 0.0
        self._busy_since = now if self._busy_since is not None else None
        self._full_since = now if self._full_since is not None else None

    def _measured(self, rate: float, full: bool) -> None:
        if self.rate is None or full != self._rate_full:
            self.rate = rate
        else:
            self.rate = 0.7 * self.rate + 0.3 * rate
        self._rate_full = full


class AdmitIngest:
    """ASGI middleware: ingest requests (POST .../records) pass through ``admission``."""

    def __init__(self, app: ASGIApp, admission: IngestAdmission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _INGEST_PATH.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        adm, run, arrived = self.admission, scope["path"], time.monotonic()
        adm.saw(run)
        wait = adm.too_soon(run)
        if wait:
            await _refuse(receive, send, adm.retry_after(wait),
                          f"each of the {adm.active_runs()} runs uploading gets one batch per "
                          f"{adm.cadence() or 0:.1f} s while it is saturated")
            return
        if adm.saturated and adm.waiting >= adm.queue:
            await _refuse(receive, send, adm.retry_after(),
                          f"{adm.in_flight} batches are being applied and {adm.waiting} are queued "
                          f"(TRACKWELL_INGEST_CONCURRENCY={int(adm.limiter.total_tokens)}, "
                          f"TRACKWELL_INGEST_QUEUE={adm.queue})")
            return
        with anyio.move_on_after(adm.queue_timeout) as queued:
            await adm.limiter.acquire()
        if queued.cancelled_caught:
            await _refuse(receive, send, adm.retry_after(),
                          f"this batch waited {adm.queue_timeout:g} s in the queue (TRACKWELL_INGEST_QUEUE_TIMEOUT)")
            return
        adm.admitted(run, arrived)
        try:
            await self.app(scope, receive, send)
        finally:
            adm.limiter.release()
            adm.done()


async def _refuse(receive: Receive, send: Send, seconds: int, reason: str) -> None:
    body = msgspec.json.encode({
        "detail": f"the server is saturated with uploads: {reason}; retry after {seconds} s "
                  "(nothing was applied: send the same records again, with what was logged since)",
        "error": "too_many_requests", "retry_after": seconds})
    await _drain(receive)  # the connection stays usable for the retry
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    message: Message = {"more_body": True}
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            return
