"""Failed authentication attempts per client address: past the limit in a minute, 429 until the
oldest failure ages out. Only failures count, so a working client is never slowed."""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW = 60.0


class FailureLimit:
    def __init__(self, per_minute: int = 30) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds this client must wait before trying again, or None."""
        now = time.monotonic()
        with self._lock:
            seen = self._failures.get(client)
            if not seen:
                return None
            while seen and seen[0] <= now - WINDOW:
                seen.popleft()
            if len(seen) < self.per_minute:
                if not seen:
                    del self._failures[client]
                return None
            return max(1.0, seen[0] + WINDOW - now)

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # a flood of addresses: forget the oldest picture
                self._failures.clear()
            self._failures.setdefault(client, deque(maxlen=self.per_minute + 1)).append(time.monotonic())
