"""System metrics: what one sample costs, and whether the sampler slows ``run.log()``.

1. One sample (``HostProbe.sample()``: process CPU/RSS/threads/fds, machine CPU/memory, the run
   dir's disk usage, disk and network rates; GPUs through NVML where there are any), timed
   ``--samples`` times in a row: median and p99 per sample, wall and CPU. Target: <= 2 ms.
2. ``run.log()`` of 10 floats, amortized over ``--steps`` calls incl. finish, offline, console
   off: with the sampler off, at W&B's default interval (15 s), and at an aggressive 0.1 s
   (150x the default rate): the ratio shows the sampler's effect on the hot path.

    python bench/bench_stats.py [--samples N] [--steps N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any


def bench_sample(samples: int, run_dir: str) -> None:
    from trackwell.sdk.system._gpu import GpuProbe
    from trackwell.sdk.system._probes import HostProbe

    probe = HostProbe(run_dir, per_core=False)
    gpu, why = GpuProbe.open()
    probe.sample()
    time.sleep(0.05)
    walls, cpus, keys = [], [], 0
    for _ in range(samples):
        c0, t0 = time.thread_time(), time.perf_counter()
        data = probe.sample()
        if gpu is not None:
            data.update(gpu.sample())
        walls.append(time.perf_counter() - t0)
        cpus.append(time.thread_time() - c0)
        keys = len(data)
    walls.sort()
    cpus.sort()
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    print(f"one sample ({keys} values, GPU: {f'NVML, {gpu.count} devices' if gpu else why}):")
    print(f"  wall median {statistics.median(walls) * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms; "
          f"CPU median {statistics.median(cpus) * 1e3:.3f} ms   (target <= 2 ms)")
    per_core = HostProbe(run_dir, per_core=True)
    per_core.sample()
    t0 = time.perf_counter()
    for _ in range(samples):
        per_core.sample()
    print(f"  with per-core CPU: {(time.perf_counter() - t0) / samples * 1e3:.3f} ms mean")


def bench_log(steps: int, settings: dict[str, Any]) -> tuple[float, float]:
    """Wall and process CPU seconds (every thread: the sampler's included) per call incl. finish."""
    import trackwell

    rows = [{f"metric_{j}": step * 0.001 + j for j in range(10)} for step in range(steps)]
    with tempfile.TemporaryDirectory() as workdir:
        run = trackwell.init(project="bench", mode="offline", dir=workdir,
                             settings={"quiet": True, "console": "off", **settings})
        c0, t0 = time.process_time(), time.perf_counter()
        for row in rows:
            run.log(row)
        run.finish(quiet=True)
        return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run_dir:
        bench_sample(args.samples, run_dir)
    cases = {"sampler off": {"x_disable_stats": True, "x_disable_meta": True},
             "sampler every 15 s (default)": {},
             "sampler every 0.1 s": {"stats_sampling_interval": 0.1}}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.repeat):  # interleaved: a busy spell on a shared machine hits every case
        for name, settings in cases.items():
            results[name].append(bench_log(args.steps, settings))
    base_wall = min(w for w, _ in results["sampler off"])
    base_cpu = min(c for _, c in results["sampler off"])
    print(f"run.log() of 10 floats, amortized incl. finish, best of {args.repeat} x {args.steps:,} calls "
          "(wall; process CPU, all threads):")
    for name, times in results.items():
        wall, cpu = min(w for w, _ in times), min(c for _, c in times)
        print(f"  {name:<30} {wall * 1e6:6.3f} us/call ({wall / base_wall:.2f}x)   "
              f"CPU {cpu * 1e6:6.3f} us/call ({cpu / base_cpu:.2f}x sampler off)")


if __name__ == "__main__":
    main()
