"""The uploader's circuit breaker: the backoff *across* requests during an outage.

Layering: the transport retries one request (``TRACKWELL_RETRY_MAX_ATTEMPTS`` attempts under one
retry id). When a request still fails, the breaker counts it and the uploader sends nothing until
the next try is due (initial interval doubling up to ``TRACKWELL_RETRY_MAX_INTERVAL``, with
jitter). After ``threshold`` consecutive failed requests it is open: each try is then a single-
attempt probe, so no failure is retried by both layers (closed: the transport retries; open: the
breaker does). The first acknowledged request closes it. The threshold defaults to 1 because a
failed request already spent its attempts and backoff; ``TRACKWELL_BREAKER_THRESHOLD`` raises it
(each extra failure then costs a full retried request before probing starts).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from trackwell._env import env_float


class CircuitBreaker:
    def __init__(self, threshold: int | None = None, initial_interval: float | None = None,
                 max_interval: float | None = None, clock: Callable[[], float] = time.monotonic,
                 rng: Callable[[], float] = random.random) -> None:
        self.threshold = max(1, threshold or int(env_float("TRACKWELL_BREAKER_THRESHOLD", 1)))
        self.initial_interval = initial_interval or env_float("TRACKWELL_RETRY_INITIAL_INTERVAL", 1.0)
        self.max_interval = max_interval or env_float("TRACKWELL_RETRY_MAX_INTERVAL", 300.0)
        self.failures = 0  # consecutive failed requests
        self.opened = 0  # times it opened (for reports and tests)
        self._clock = clock
        self._rng = rng
        self._next_probe = 0.0

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def wait_time(self) -> float:
        """Seconds until the next request may go out (0 when healthy or a try is due)."""
        return max(0.0, self._next_probe - self._clock()) if self.failures else 0.0

    def failure(self) -> None:
        self.failures += 1
        if self.failures == self.threshold:
            self.opened += 1
        interval = min(self.initial_interval * 2 ** min(self.failures - 1, 32), self.max_interval)
        # jitter in [interval/2, interval]: many clients of one server do not probe in lockstep
        self._next_probe = self._clock() + interval * (0.5 + self._rng() / 2)

    def success(self) -> None:
        self.failures = 0
        self._next_probe = 0.0
