"""`run.log()` of 10 floats, amortized: the log calls plus the flush at finish, per step.

Target (DESIGN.md): <= 3 us amortized with default settings (console capture on), and >= 50x
faster than wandb offline measured in the same run. The script holds all rows prebuilt (the
caller's dicts are not the tracker's cost). Where wandb or mlflow is installed
(`pip install -e '.[bench]'`), the same loop is measured for them in the same process, with
their default settings too, and the ratio printed. The console-off figure is printed as well,
and for trackwell the process's CPU time per call (both threads), which a busy machine moves less.

    python bench/bench_log.py [--steps N] [--peer-steps N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

Result = tuple[float, float]  # (seconds per log() call, seconds per call incl. finish's flush)


def make_rows(steps: int) -> list[dict[str, float]]:
    return [{f"metric_{j}": step * 0.001 + j for j in range(10)} for step in range(steps)]


def bench_trackwell(rows: list[dict[str, float]], workdir: str, settings: dict[str, Any]) -> tuple[float, float, float]:
    """Result and the process's CPU seconds per call incl. finish (both threads: on a shared box
    this moves less than wall time)."""
    import trackwell

    run = trackwell.init(project="bench", mode="offline", dir=workdir, settings={"quiet": True, **settings})
    c0, t0 = time.process_time(), time.perf_counter()
    for row in rows:
        run.log(row)
    t1 = time.perf_counter()
    run.finish(quiet=True)
    t2, c2 = time.perf_counter(), time.process_time()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows), (c2 - c0) / len(rows)


def bench_wandb(rows: list[dict[str, float]], workdir: str) -> Result:
    import wandb

    run = wandb.init(project="bench", mode="offline", dir=workdir)
    t0 = time.perf_counter()
    for row in rows:
        run.log(row)
    t1 = time.perf_counter()
    run.finish()
    t2 = time.perf_counter()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows)


def bench_mlflow(rows: list[dict[str, float]], workdir: str) -> Result:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    with mlflow.start_run():
        t0 = time.perf_counter()
        for step, row in enumerate(rows):
            mlflow.log_metrics(row, step=step)
        t1 = time.perf_counter()
    t2 = time.perf_counter()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--peer-steps", type=int, default=2_000, help="steps for wandb/mlflow (they are slow)")
    parser.add_argument("--repeat", type=int, default=3, help="trackwell runs per setting (the median is shown)")
    args = parser.parse_args()

    rows = make_rows(args.steps)
    results: dict[str, Result] = {}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, settings in (("trackwell", {}), ("  console off", {"console": "off"})):
            runs = [bench_trackwell(rows, workdir, settings) for _ in range(args.repeat)]
            per_call, amortized, cpu[name] = (statistics.median(r[i] for r in runs) for i in range(3))
            results[name] = (per_call, amortized)
        del rows
        peers: dict[str, Callable[[list[dict[str, float]], str], Result]] = {
            "wandb": bench_wandb, "mlflow": bench_mlflow}
        for name, fn in peers.items():
            try:
                __import__(name)
            except ImportError:
                print(f"{name}: not installed (pip install -e '.[bench]' to compare)")
                continue
            os.environ.setdefault("WANDB_SILENT", "true")
            results[name] = fn(make_rows(args.peer_steps), workdir)

    ours = results["trackwell"][1]
    print(f"log() of 10 floats, default settings (console capture on), {args.steps:,} prebuilt rows, offline "
          f"(target <= 3 us amortized, >= 50x wandb); peers {args.peer_steps:,} rows")
    for name, (per_call, amortized) in results.items():
        ratio = "" if name.startswith(("trackwell", " ")) else f"  ({amortized / ours:,.0f}x trackwell)"
        cpu_text = f"   cpu {cpu[name] * 1e6:5.2f} us" if name in cpu else ""
        print(f"  {name:14s} log() call {per_call * 1e6:8.2f} us   amortized incl. flush "
              f"{amortized * 1e6:8.2f} us{ratio}{cpu_text}")


if __name__ == "__main__":
    main()
