"""`trackwell sync` end to end: an offline journal to queryable history, narrow and wide rows.

Targets (issue 10): >= 500,000 rows/s for one-metric rows (`log({"loss": x})`) and >= 1,500,000
points/s for 10-metric rows, one server process; the journal <= 32 bytes per row for one float
(with `_runtime`/`_timestamp`). What it does, as a new user would:

1. an offline run logs N rows through the SDK (timed too: log + finish);
2. the journal's size on disk per row is printed;
3. a real `trackwell server` subprocess starts (SQLite + DuckDB in a temp dir) and the `trackwell
   sync` CLI uploads the run (a subprocess; its wall time is the figure);
4. the query API checks every row is there (`_step` count and the last value).

    python bench/bench_sync.py [--rows N] [--wide-rows N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _server import start_server


def log_offline(workdir: Path, rows: int, width: int) -> tuple[str, float, Path]:
    import trackwell

    keys = ["loss"] if width == 1 else [f"metric_{j}" for j in range(width)]
    data = [{k: step * 0.001 + j for j, k in enumerate(keys)} for step in range(rows)]
    t0 = time.perf_counter()
    run = trackwell.init(project="bench-sync", mode="offline", dir=str(workdir),
                         settings={"quiet": True, "console": "off"})
    for row in data:
        run.log(row)
    run.finish(quiet=True)
    elapsed = time.perf_counter() - t0
    journal = next(workdir.rglob(f"run-{run.id}.twj"))
    return run.id, elapsed, journal


def sync_once(base_url: str, workdir: Path) -> float:
    env = {**os.environ, "TRACKWELL_BASE_URL": base_url}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "trackwell", "sync", str(workdir)], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"trackwell sync failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def check(base_url: str, entity: str, run_id: str, rows: int, width: int) -> None:
    """Every row arrived: the last step and value in the summary, the point count of one key."""
    import trackwell

    api = trackwell.Api(base_url=base_url)
    path = f"{entity}/bench-sync/{run_id}"
    key = "loss" if width == 1 else f"metric_{width - 1}"
    summary = api.run(path).summary
    expected = (rows - 1) * 0.001 + (width - 1)
    assert summary["_step"] == rows - 1, summary
    assert abs(summary[key] - expected) < 1e-9, (summary[key], expected)
    from trackwell.transport import Client

    with Client(base_url) as client:
        found = client.get(f"/api/v1/runs/{path}/history/buckets", params={"key": key, "buckets": 1})
    count = sum(b.get("count", 0) for b in found["buckets"]) if "buckets" in found else None
    assert count in (None, rows), (count, rows)


def one(label: str, rows: int, width: int, root: Path) -> None:
    proc, url = start_server(root / f"server-{label}")
    try:
        from trackwell import _credentials

        entity = _credentials.load(url).entity  # type: ignore[union-attr]
        os.environ["TRACKWELL_ENTITY"] = entity
        workdir = root / f"runs-{label}"
        workdir.mkdir()
        run_id, log_s, journal = log_offline(workdir, rows, width)
        size = journal.stat().st_size
        elapsed = sync_once(url, workdir)
        check(url, entity, run_id, rows, width)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"{label:>6}: {rows:,} rows x {width} metric(s): journal {size / rows:.1f} bytes/row "
          f"({size / 1e6:.1f} MB); log+finish {log_s:.2f} s; sync {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s, "
          f"{rows * width / elapsed:,.0f} metric points/s ({rows * (width + 2) / elapsed:,.0f} with _runtime/_timestamp)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="narrow run: rows of one metric")
    parser.add_argument("--wide-rows", type=int, default=150_000, help="wide run: rows of 10 metrics")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (prints it)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    os.environ["TRACKWELL_CONFIG_DIR"] = str(root / "config")
    try:
        one("narrow", args.rows, 1, root)
        one("wide", args.wide_rows, 10, root)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
