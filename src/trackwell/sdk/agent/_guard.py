"""An agent's safety valves (W&B's): it stops when its runs keep failing at once (flapping: 3
failures in its first 60 s; ``TRACKWELL_AGENT_DISABLE_FLAPPING=1`` turns that off), when its
first ``TRACKWELL_AGENT_MAX_INITIAL_FAILURES`` (5) runs all failed, or after
``max_consecutive_failures`` failed runs in a row."""

from __future__ import annotations

import os
import time

FLAP_WINDOW, FLAP_FAILURES = 60.0, 3


class FailureGuard:
    def __init__(self, max_consecutive_failures: int | None = None) -> None:
        self.started = time.monotonic()
        self.failures = self.runs = self.consecutive = 0
        self.max_initial = int(os.environ.get("TRACKWELL_AGENT_MAX_INITIAL_FAILURES") or 5)
        self.flapping = os.environ.get("TRACKWELL_AGENT_DISABLE_FLAPPING", "") not in ("1", "true")
        self.max_consecutive = max_consecutive_failures

    def record(self, failed: bool) -> str | None:
        """Count a run's end; a reason to stop the agent, or None."""
        self.runs += 1
        if not failed:
            self.consecutive = 0
            return None
        self.failures += 1
        self.consecutive += 1
        if self.flapping and self.failures >= FLAP_FAILURES and time.monotonic() - self.started < FLAP_WINDOW:
            return (f"{self.failures} runs failed within {FLAP_WINDOW:g} s of the agent's start (flapping); fix the "
                    "program (or set TRACKWELL_AGENT_DISABLE_FLAPPING=1)")
        if self.runs == self.failures == self.max_initial:
            return f"the first {self.max_initial} runs all failed (TRACKWELL_AGENT_MAX_INITIAL_FAILURES)"
        if self.max_consecutive is not None and self.consecutive >= self.max_consecutive:
            return f"{self.consecutive} runs in a row failed (--max-consecutive-failed-runs {self.max_consecutive})"
        return None
