"""`import` + `init` + `finish` of an offline run, in a fresh interpreter each time.

Target (DESIGN.md): <= 100 ms, also when the run logged 100k rows before finish() (the
log calls themselves are not counted: bench_log.py measures them). Measured inside the child
from before the import to after finish(), so interpreter start-up is not counted (it is the
same for every tracker).

    python bench/bench_init.py [--trials N] [--rows N]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# The child prints import+init and finish in seconds, wall then CPU (this process's threads: wandb's
# service process is not counted); rows are built before the clock starts.
CHILD = {
    "trackwell": (
        "import time\n"
        "rows = [{{f'metric_{{j}}': i * 0.001 + j for j in range(10)}} for i in range({rows})]\n"
        "c0, t0 = time.process_time(), time.perf_counter()\n"
        "import trackwell\n"
        "run = trackwell.init(project='bench', mode='offline', dir={dir!r}, settings={{'quiet': True}})\n"
        "c1, t1 = time.process_time(), time.perf_counter()\n"
        "for row in rows:\n"
        "    run.log(row)\n"
        "c2, t2 = time.process_time(), time.perf_counter()\n"
        "run.finish(quiet=True)\n"
        "print(t1 - t0, time.perf_counter() - t2, c1 - c0, time.process_time() - c2)\n"
    ),
    "wandb": (
        "import time\n"
        "rows = [{{f'metric_{{j}}': i * 0.001 + j for j in range(10)}} for i in range({rows})]\n"
        "c0, t0 = time.process_time(), time.perf_counter()\n"
        "import wandb\n"
        "run = wandb.init(project='bench', mode='offline', dir={dir!r})\n"
        "c1, t1 = time.process_time(), time.perf_counter()\n"
        "for row in rows:\n"
        "    run.log(row)\n"
        "c2, t2 = time.process_time(), time.perf_counter()\n"
        "run.finish()\n"
        "print(t1 - t0, time.perf_counter() - t2, c1 - c0, time.process_time() - c2)\n"
    ),
}


def measure(name: str, trials: int, rows: int) -> list[tuple[float, ...]] | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    # The child imports the package this process would (a checkout on PYTHONPATH, say), not
    # whatever the environment installed.
    env = {"WANDB_SILENT": "true", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(spec.origin).parent.parent)}
    times = []
    with tempfile.TemporaryDirectory() as workdir:
        code = CHILD[name].format(dir=workdir, rows=rows)
        for _ in range(trials):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
            times.append(tuple(float(x) for x in out.stdout.strip().splitlines()[-1].split()))
    return times


def _ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1e3:7.1f} ms   min {min(values) * 1e3:7.1f} ms   "
            f"max {max(values) * 1e3:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000, help="rows logged before finish()")
    parser.add_argument("--peer-rows", type=int, default=1_000, help="rows wandb logs (it is slow)")
    args = parser.parse_args()
    print(f"import + init + finish, offline, {args.trials} fresh interpreters (target <= 100 ms)")
    for rows in (0, args.rows):
        print(f" after {rows:,} rows of 10 floats (wandb: {min(rows, args.peer_rows):,})")
        ours = None
        for name in CHILD:
            times = measure(name, args.trials, rows if name == "trackwell" else min(rows, args.peer_rows))
            if times is None:
                print(f"  {name:10s} not installed (pip install -e '.[bench]' to compare)")
                continue
            totals = [t[0] + t[1] for t in times]
            median = statistics.median(totals)
            ours = ours or median
            ratio = "" if name == "trackwell" else f"  ({median / ours:,.1f}x trackwell)"
            print(f"  {name:10s} total  {_ms(totals)}{ratio}")
            med = [statistics.median(t[i] for t in times) * 1e3 for i in range(4)]
            print(f"  {'':10s} import+init {med[0]:7.1f} ms   finish {med[1]:7.1f} ms   "
                  f"(medians; cpu {med[2]:.1f} + {med[3]:.1f} ms)")


if __name__ == "__main__":
    main()
