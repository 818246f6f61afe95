"""The sweep pages in Chromium against a real server: the project's sweeps, a finished sweep's
progress, best run and runs (parameters, metric, state), and pausing / resuming a running one."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import log_in_with_key, shoot
from servers import LiveServer, http, start_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sweeps"))
from agents import function_agent  # noqa: E402


@pytest.fixture
def ui_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own; its UI is TRACKWELL_UI_DIR's build when set (a worktree's own build),
    else the package's (``ui_build``)."""
    if not os.environ.get("TRACKWELL_UI_DIR"):
        request.getfixturevalue("ui_build")
    live = start_server(tmp_path / "server")
    yield live
    live.stop()


def _sweep(live: LiveServer, project: str, config: dict[str, Any]) -> str:
    r = http.post(f"{live.url}/api/v1/sweeps/{live.entity}/{project}", json={"config": config}, timeout=30)
    r.raise_for_status()
    return str(r.json()["id"])


def test_sweep_pages(page: Any, ui_server: LiveServer, tmp_path: Path) -> None:
    live = ui_server
    done = _sweep(live, "tune", {"method": "grid", "name": "lr-grid", "metric": {"name": "loss", "goal": "minimize"},
                                 "parameters": {"a": {"values": [3, 1, 2]}}})
    agent = function_agent(live.url, f"{live.entity}/tune/{done}", tmp_path / "agent")
    out, _ = agent.communicate(timeout=120)
    assert agent.returncode == 0, out
    running = _sweep(live, "tune", {"method": "random", "parameters": {"a": {"min": 0.0, "max": 1.0}}})

    page.goto(f"{live.url}/login")
    log_in_with_key(page, live.url, live.api_key)
    page.wait_for_url(f"{live.url}/{live.entity}")
    page.goto(f"{live.url}/{live.entity}/tune")
    page.get_by_role("link", name="Sweeps").click()
    table = page.get_by_role("table", name="Sweeps of tune")
    table.wait_for()
    assert table.get_by_role("row").count() == 3  # header + two sweeps
    table.get_by_role("link", name="lr-grid").click()
    page.wait_for_url(f"{live.url}/{live.entity}/tune/sweeps/{done}")
    page.get_by_text("3 of 3 runs ended").wait_for()
    page.get_by_text("every grid combination ran").wait_for()
    runs = page.get_by_role("table", name=f"Runs of sweep {done}")
    runs.wait_for()
    assert runs.get_by_role("row").count() == 4
    assert runs.get_by_text("finished").count() == 3
    best = page.get_by_text("Best run:")
    assert "(loss = 1)" in best.inner_text()
    shoot(page, "sweep-finished")

    page.goto(f"{live.url}/{live.entity}/tune/sweeps/{running}")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    assert page.locator(".badge-sweep-paused").inner_text() == "paused"
    state = http.get(f"{live.url}/api/v1/sweeps/{live.entity}/tune/{running}", timeout=30).json()["state"]
    assert state == "paused"
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("button", name="Pause").wait_for()
    shoot(page, "sweep-running")
