"""Charts at scale: one run's 1,000-bucket chart with N points in the metric store, loaded run after
run or with 1,000 runs interleaved; a rewind; `history(samples=1000)` of a 1M-point run end to end.

Targets (issue 10): a one-run chart <= 30 ms at 100 M points whatever the interleaving; rewind cost
proportional to the run, not the table; `Api().run(...).history(samples=1000)` on a 1M-point run
<= 50 ms end to end.

Points go through ``DuckDBMetricStore.append`` (what the projector calls), in batches of
``--batch-steps`` steps x ``--keys`` keys of one run: "sequential" loads each run's whole history
before the next run's, "interleaved" sends one batch of every run in turn. The chart is the
middle run's ``metric_3`` (``points / runs / keys`` points): cold is the first read after
reopening the store, warm the median (and min: this box is shared) of 50 reads over 10 runs. The rewind hides the second half
of another run. Everything lives in a temporary directory removed at the end.

On this shared 2-core box the default (4 M points) takes ~2 min; ``--points 20000000`` ~8 min;
``--points 100000000`` ~45 min (loading dominates) and ~2 GB of temporary disk per layout.

    python bench/bench_chart.py [--points N] [--layouts sequential,interleaved] [--skip-history]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from _server import start_server, stop_server

from trackwell.store.metrics import DuckDBMetricStore, PointBatch

KEYS = [f"metric_{j}" for j in range(10)]


def _batch(run: int, first_step: int, steps: int, keys: int) -> PointBatch:
    step = np.repeat(np.arange(first_step, first_step + steps, dtype=np.int64), keys)
    key_idx = np.tile(np.arange(keys, dtype=np.int32), steps)
    values = np.sin(step * 1e-3 + run) + key_idx
    return PointBatch(KEYS[:keys], key_idx, step, values.astype(np.float64))


def _order(layout: str, runs: int, batches_per_run: int) -> Iterator[tuple[int, int]]:
    """(run, batch index) in load order."""
    if layout == "sequential":
        return ((r, b) for r in range(runs) for b in range(batches_per_run))
    return ((r, b) for b in range(batches_per_run) for r in range(runs))


def load(store: DuckDBMetricStore, layout: str, runs: int, steps: int, keys: int, batch_steps: int) -> float:
    """Append every batch; returns points/s."""
    t0 = time.perf_counter()
    total = 0
    for run, b in _order(layout, runs, -(-steps // batch_steps)):
        first = b * batch_steps
        batch = _batch(run, first, min(batch_steps, steps - first), keys)
        assert store.append(run + 1, "bench", b + 1, batch, b)
        total += len(batch.values)
    return total / (time.perf_counter() - t0)


def _settle(store: DuckDBMetricStore) -> float:
    """Wait for background layout work, if the store does any; returns the seconds waited."""
    wait = getattr(store, "wait_compacted", None)
    t0 = time.perf_counter()
    if wait is not None:
        wait()
    return time.perf_counter() - t0


def chart_figures(path: Path, layout: str, args: argparse.Namespace) -> None:
    steps = args.points // (args.runs * args.keys)
    store = DuckDBMetricStore(path)
    rate = load(store, layout, args.runs, steps, args.keys, args.batch_steps)
    settled = _settle(store)
    store.close()
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + ".wal"))
    print(f"{layout:>11}: {args.points:,} points ({args.runs} runs x {args.keys} keys x {steps:,} steps) "
          f"appended at {rate:,.0f} points/s; background layout work after the load {settled:.1f} s; "
          f"{size / 2**30:.2f} GiB")

    store = DuckDBMetricStore(path)
    try:
        run = args.runs // 2 + 1
        t0 = time.perf_counter()
        got = store.downsample(run, "metric_3", 1000)
        cold = time.perf_counter() - t0
        assert got["count"] == steps, got["count"]
        times = []
        for i in range(50):
            t0 = time.perf_counter()
            store.downsample(run + i % 10, "metric_3", 1000)
            times.append(time.perf_counter() - t0)
        print(f"{'':>11}  one run's chart ({steps:,} points -> {len(got['buckets'])} buckets): cold {cold * 1e3:.1f} ms, "
              f"warm median {statistics.median(times) * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms, "
              f"max {max(times) * 1e3:.1f} ms (target <= 30 ms)")

        t0 = time.perf_counter()
        hidden = store.rewind(args.runs // 3 + 1, steps // 2 - 1)
        elapsed = time.perf_counter() - t0
        assert hidden == (steps - steps // 2) * args.keys, hidden
        print(f"{'':>11}  rewind of one run (hides {hidden:,} points): {elapsed * 1e3:.1f} ms")
    finally:
        store.close()


def history_figures(workdir: Path, points: int) -> None:
    """A 1M-point run (one key) through a real server; `history(samples=1000)` through the client."""
    import trackwell
    from trackwell.schema import Batch, History, RunStart
    from trackwell.transport import Client

    proc, url = start_server(workdir / "server")
    try:
        client = Client(base_url=url, timeout=120)
        sent = [Batch(writer="chart", records=[RunStart(seq=1, ts=0.0, entity="bench", project="chart",
                                                         run_id="hist0001")])]
        per = 50_000
        for start in range(0, points, per):
            sent.append(Batch(writer="chart", records=[
                History(seq=s + 2, ts=1.7e9 + s, step=s, runtime=float(s), data={"loss": 1.0 / (s + 1)})
                for s in range(start, min(points, start + per))]))
        for batch in sent:
            client.send_batch("bench", "chart", "hist0001", batch)
        run = trackwell.Api(base_url=url).run("bench/chart/hist0001")
        # Time reads of the whole run: wait for the server to apply what it acknowledged, and give
        # background work (the metric store's compaction) a moment, as a user opening it later would.
        deadline = time.monotonic() + 120
        while run.buckets("loss", 1)["count"] < points and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            frame = run.history(samples=1000)
            times.append(time.perf_counter() - t0)
        assert len(frame) == 1000, len(frame)
        print(f"history(samples=1000) of a {points:,}-step run ('loss', _runtime, _timestamp) end to end: "
              f"first {times[0] * 1e3:.1f} ms, median {statistics.median(times) * 1e3:.1f} ms (target <= 50 ms)")
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4_000_000, help="points in the metric store")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=10, help="keys per run (at most 10)")
    parser.add_argument("--batch-steps", type=int, default=100, help="steps per append")
    parser.add_argument("--layouts", default="sequential,interleaved")
    parser.add_argument("--history-points", type=int, default=1_000_000)
    parser.add_argument("--skip-history", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        for layout in args.layouts.split(","):
            chart_figures(Path(tmp) / layout / "metrics.duckdb", layout, args)
        if not args.skip_history:
            history_figures(Path(tmp), args.history_points)


if __name__ == "__main__":
    main()
