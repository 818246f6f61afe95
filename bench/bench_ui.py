"""The web UI in a real browser (Debian's Chromium, headless) against a real server seeded at scale.

Figures (issue 9), each read from the app's performance measures (from the navigation that
opened the page, JavaScript loading and the session check included):
- runs table of 100,000 runs: first rows shown <= 1 s after navigation (``runs-table:first-rows``);
- a chart of a 1,000,000-point metric drawn <= 300 ms (``chart:drawn`` on the run page's charts);
- the workspace with 50 metrics x 10 runs interactive <= 2 s (``workspace:interactive``: every
  chart on screen at first has drawn).

Each page is opened ``--repeat`` times; the first opening loads the assets cold, the median is over
the others (assets cached, as for a user moving between pages). Needs the UI built (``make ui``),
``/usr/bin/chromium`` and the ``playwright`` package (``pip install -e '.[dev]'``).

    python bench/bench_ui.py [--small]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _server import auth_headers, login_entity, start_server, stop_server
from _ui_seed import seed_runs

from trackwell.schema import Batch, Exit, History, RunStart
from trackwell.transport import Client

CHROMIUM = "/usr/bin/chromium"
DIST = Path(__file__).resolve().parent.parent / "src" / "trackwell" / "server" / "ui" / "dist" / "index.html"


def send_history(client: Client, entity: str, project: str, run_id: str, steps: int,
                 values: Callable[[int], dict[str, float]], per_batch: int = 50_000) -> None:
    """One finished run's history through the batch API, ``per_batch`` points per request."""
    writer = f"bench-{run_id}"
    client.send_batch(entity, project, run_id, Batch(writer=writer, records=[
        RunStart(seq=1, ts=time.time(), entity=entity, project=project, run_id=run_id)]))
    seq, rows_per_batch = 1, max(1, per_batch // max(1, len(values(0))))
    for start in range(0, steps, rows_per_batch):
        records: list[Any] = []
        for step in range(start, min(steps, start + rows_per_batch)):
            seq += 1
            records.append(History(seq=seq, ts=1.7e9 + step, step=step, runtime=step * 0.01, data=values(step)))
        client.send_batch(entity, project, run_id, Batch(writer=writer, records=records))
    client.send_batch(entity, project, run_id, Batch(writer=writer, records=[
        Exit(seq=seq + 1, ts=time.time(), exit_code=0, runtime=steps * 0.01)]))


def seed_chart(client: Client, entity: str, points: int) -> str:
    send_history(client, entity, "chart", "chart1m", points, lambda s: {"loss": 1.0 / (s + 1) + (s % 97) * 1e-4})
    return f"/{entity}/chart/runs/chart1m?tab=charts"


def seed_workspace(client: Client, entity: str, runs: int, metrics: int, steps: int) -> str:
    keys = [f"{('train', 'val', 'sys')[j % 3]}/metric_{j:02d}" for j in range(metrics)]
    ids = [f"ws{r:02d}" for r in range(runs)]
    for r, run_id in enumerate(ids):
        def values(step: int, r: int = r) -> dict[str, float]:
            return {k: (j + 1) / (step + 1) + r * 0.01 for j, k in enumerate(keys)}

        send_history(client, entity, "workspace", run_id, steps, values)
    return f"/{entity}/workspace/workspace?runs={','.join(ids)}"


def seed_runs_table(url: str, entity: str, runs: int, data_dir: Path) -> str:
    project = seed_runs(url, entity, runs, data_dir=data_dir)
    return f"/{entity}/{project}"


def measure(page: Any, base: str, path: str, name: str, timeout_ms: float = 60_000) -> tuple[float, Any]:
    """Open ``path`` (a fresh navigation) and wait for the app's ``name`` measure: (ms, detail)."""
    page.goto(base + path)
    page.wait_for_function(f"performance.getEntriesByName({name!r}, 'measure').length > 0", timeout=timeout_ms)
    duration, detail = page.evaluate(
        f"(() => {{ const m = performance.getEntriesByName({name!r}, 'measure')[0]; return [m.duration, m.detail]; }})()")
    return float(duration), detail


def report(label: str, times: list[float], target_ms: float, detail: Any) -> None:
    warm = times[1:] or times
    verdict = "ok" if statistics.median(warm) <= target_ms else "OVER TARGET"
    print(f"{label}: cold {times[0]:.0f} ms, warm median {statistics.median(warm):.0f} ms "
          f"(min {min(warm):.0f}, max {max(warm):.0f}) over {len(warm)}; target <= {target_ms:.0f} ms: {verdict}; "
          f"{detail}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run: 2,000 runs, a 100k-point chart, "
                                                             "50 metrics x 10 runs of 100 steps")
    parser.add_argument("--runs", type=int, help="runs in the runs table (default 100,000)")
    parser.add_argument("--chart-points", type=int, help="points of the chart's metric (default 1,000,000)")
    parser.add_argument("--steps", type=int, help="steps of each workspace run (default 1,000)")
    parser.add_argument("--repeat", type=int, default=5, help="openings of each page")
    args = parser.parse_args()
    runs = args.runs or (2_000 if args.small else 100_000)
    chart_points = args.chart_points or (100_000 if args.small else 1_000_000)
    steps = args.steps or (100 if args.small else 1_000)
    if not DIST.exists():
        raise SystemExit(f"the UI is not built ({DIST} is missing): run `make ui` first")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `apt-get install -y chromium` (never a downloaded browser)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "server"
        proc, url = start_server(data_dir)
        try:
            entity = login_entity(url)
            key = auth_headers(url)["Authorization"].split(" ", 1)[1]
            t0 = time.perf_counter()
            with Client(base_url=url, timeout=300) as client:
                chart_path = seed_chart(client, entity, chart_points)
                workspace_path = seed_workspace(client, entity, 10, 50, steps)
            table_path = seed_runs_table(url, entity, runs, data_dir)
            print(f"seeded in {time.perf_counter() - t0:.0f} s: {runs:,} runs, a {chart_points:,}-point metric, "
                  f"50 metrics x 10 runs x {steps:,} steps", flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                signed_in = context.request.post(f"{url}/api/v1/auth/login", data={"api_key": key})
                if signed_in.status != 200:
                    raise SystemExit(f"could not sign the browser in: {signed_in.status} {signed_in.text()}")
                page = context.new_page()
                page.on("pageerror", lambda e: print(f"page error: {e}", file=sys.stderr))
                for label, path, name, target in (
                        (f"runs table, {runs:,} runs, first rows", table_path, "runs-table:first-rows", 1000),
                        (f"chart of a {chart_points:,}-point metric drawn", chart_path, "chart:drawn", 300),
                        ("workspace, 50 metrics x 10 runs, interactive", workspace_path, "workspace:interactive", 2000)):
                    results = [measure(page, url, path, name) for _ in range(args.repeat)]
                    report(label, [t for t, _ in results], target, results[-1][1])
                browser.close()
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
