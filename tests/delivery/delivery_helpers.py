"""Helpers for the delivery tests: real server processes, exact comparisons of what the client
logged with what the server holds, and the retry-id trail in the server log."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx

from trackwell.schema import History
from trackwell.sdk.journal import JournalReader

# tests/conftest.py is a conftest, not an importable module (pytest swaps "conftest" modules
# per directory), so its server helpers are loaded here by path.
_spec = importlib.util.spec_from_file_location("_trackwell_root_conftest", Path(__file__).parents[1] / "conftest.py")
assert _spec is not None and _spec.loader is not None
_root = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
start_server = _root.start_server
free_port = _root.free_port
LiveServer = _root.LiveServer

# Short retry intervals: every backoff in these tests is tens of milliseconds, timeouts ~1 s.
FAST_RETRIES = {
    "TRACKWELL_RETRY_INITIAL_INTERVAL": "0.02",
    "TRACKWELL_RETRY_MAX_INTERVAL": "0.3",
    "TRACKWELL_HTTP_TIMEOUT": "1.0",
}


def logged(journal: Path) -> list[dict[str, Any]]:
    """The history rows the client logged, as the server should return them."""
    return [{"_step": r.step, **r.data} for r in JournalReader(journal).records() if isinstance(r, History)]


def server_rows(base_url: str, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    min_step: int | None = 0
    while min_step is not None:
        r = httpx.get(f"{base_url}/api/v1/runs/{path}/history/scan",
                      params={"min_step": min_step, "page_size": 1000}, timeout=30)
        r.raise_for_status()
        rows += r.json()["rows"]
        min_step = r.json()["next_step"]
    return rows


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
    got = server_rows(base_url, path)
    project = [tuple(row.get(k) for k in ("_step", *keys)) for row in want]
    assert [tuple(row.get(k) for k in ("_step", *keys)) for row in got] == project
    counts = point_counts(base_url, path)
    numeric = [key for key in keys if key in counts]  # strings are history values, not points
    assert numeric, f"none of {keys} is a numeric metric"
    for key in numeric:
        assert counts[key] == sum(1 for row in want if key in row), f"{key}: points applied more than once"
