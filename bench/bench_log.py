"""`run.log()` of 10 floats, amortized: the log calls plus the flush at finish, per step.

Target (DESIGN.md): <= 5 us. Where wandb or mlflow is installed (`pip install -e '.[bench]'`),
the same loop is measured for them in the same process and the ratio printed.

    python bench/bench_log.py [--steps N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable


def make_rows(steps: int) -> list[dict[str, float]]:
    # Built before timing: the caller's dict is not the tracker's cost.
    return [{f"metric_{j}": step * 0.001 + j for j in range(10)} for step in range(steps)]


def bench_trackwell(rows: list[dict[str, float]], workdir: str) -> tuple[float, float]:
    import trackwell

    run = trackwell.init(project="bench", mode="offline", dir=workdir, settings={"console": "off"})
    t0 = time.perf_counter()
    for row in rows:
        run.log(row)
    t1 = time.perf_counter()
    run.finish(quiet=True)
    t2 = time.perf_counter()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows)


def bench_wandb(rows: list[dict[str, float]], workdir: str) -> tuple[float, float]:
    import wandb

    run = wandb.init(project="bench", mode="offline", dir=workdir, settings=wandb.Settings(console="off"))
    t0 = time.perf_counter()
    for row in rows:
        run.log(row)
    t1 = time.perf_counter()
    run.finish()
    t2 = time.perf_counter()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows)


def bench_mlflow(rows: list[dict[str, float]], workdir: str) -> tuple[float, float]:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    t0 = time.perf_counter()
    with mlflow.start_run():
        t0 = time.perf_counter()
        for step, row in enumerate(rows):
            mlflow.log_metrics(row, step=step)
        t1 = time.perf_counter()
    t2 = time.perf_counter()
    return (t1 - t0) / len(rows), (t2 - t0) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--peer-steps", type=int, default=2_000, help="steps for wandb/mlflow (they are slow)")
    args = parser.parse_args()

    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        results["trackwell"] = bench_trackwell(make_rows(args.steps), workdir)
        peers: dict[str, Callable[[list[dict[str, float]], str], tuple[float, float]]] = {
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
    print(f"log() of 10 floats, {args.steps:,} steps (target <= 5 us amortized)")
    for name, (per_call, amortized) in results.items():
        ratio = "" if name == "trackwell" else f"  ({amortized / ours:,.0f}x trackwell)"
        print(f"  {name:10s} log() call {per_call * 1e6:8.2f} us   amortized incl. flush {amortized * 1e6:8.2f} us{ratio}")


if __name__ == "__main__":
    main()
