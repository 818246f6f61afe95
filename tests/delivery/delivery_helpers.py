"""Helpers for the delivery tests: real server processes, exact comparisons of what the client
logged with what the server holds, and the retry-id trail in the server log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from servers import scan_rows

from trackwell.schema import History
from trackwell.sdk.journal import JournalReader

# Short retry intervals: every backoff in these tests is tens of milliseconds, timeouts ~1 s.
FAST_RETRIES = {
    "TRACKWELL_RETRY_INITIAL_INTERVAL": "0.02",
    "TRACKWELL_RETRY_MAX_INTERVAL": "0.3",
    "TRACKWELL_HTTP_TIMEOUT": "1.0",
}


def logged(journal: Path) -> list[dict[str, Any]]:
    """The history rows the client logged, as the server should return them."""
    return [{"_step": r.step, **r.data} for r in JournalReader(journal).records() if isinstance(r, History)]


def point_counts(base_url: str, path: str) -> dict[str, int]:
    """Points ingested per metric: a duplicate delivery would show here even where the history
    scan (one row per step) would hide it."""
    r = httpx.get(f"{base_url}/api/v1/runs/{path}/metrics", timeout=30)
    r.raise_for_status()
    return {k: int(v["count"]) for k, v in r.json()["metrics"].items()}


def assert_exactly_once(base_url: str, journal: Path, keys: tuple[str, ...] = ("x", "i")) -> None:
    h = JournalReader(journal).header
    path = f"{h.entity}/{h.project}/{h.run_id}"
    want = logged(journal)
    assert want, "the client logged nothing"
    got = scan_rows(base_url, path)
    project = [tuple(row.get(k) for k in ("_step", *keys)) for row in want]
    assert [tuple(row.get(k) for k in ("_step", *keys)) for row in got] == project
    counts = point_counts(base_url, path)
    numeric = [key for key in keys if key in counts]  # strings are history values, not points
    assert numeric, f"none of {keys} is a numeric metric"
    for key in numeric:
        assert counts[key] == sum(1 for row in want if key in row), f"{key}: points applied more than once"
