"""`import` + `init` + `finish` of an offline run, in a fresh interpreter each time.

Target (DESIGN.md): <= 150 ms. Measured inside the child from before the import to after
finish(), so interpreter start-up is not counted (it is the same for every tracker).

    python bench/bench_init.py [--trials N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile

CHILD = {
    "trackwell": (
        "import time; t0 = time.perf_counter()\n"
        "import trackwell\n"
        "run = trackwell.init(project='bench', mode='offline', dir={dir!r})\n"
        "run.finish(quiet=True)\n"
        "print(time.perf_counter() - t0)\n"
    ),
    "wandb": (
        "import time; t0 = time.perf_counter()\n"
        "import wandb\n"
        "run = wandb.init(project='bench', mode='offline', dir={dir!r})\n"
        "run.finish()\n"
        "print(time.perf_counter() - t0)\n"
    ),
}


def measure(name: str, trials: int) -> list[float] | None:
    try:
        __import__(name)
    except ImportError:
        return None
    times = []
    with tempfile.TemporaryDirectory() as workdir:
        code = CHILD[name].format(dir=workdir)
        for _ in range(trials):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env={"WANDB_SILENT": "true", "PATH": "/usr/bin:/bin"})
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    print(f"import + init + finish, offline, {args.trials} fresh interpreters (target <= 150 ms)")
    ours = None
    for name in CHILD:
        times = measure(name, args.trials)
        if times is None:
            print(f"  {name:10s} not installed (pip install -e '.[bench]' to compare)")
            continue
        median = statistics.median(times)
        ours = ours or median
        ratio = "" if name == "trackwell" else f"  ({median / ours:,.1f}x trackwell)"
        print(f"  {name:10s} median {median * 1e3:7.1f} ms   min {min(times) * 1e3:7.1f} ms   "
              f"max {max(times) * 1e3:7.1f} ms{ratio}")


if __name__ == "__main__":
    main()
