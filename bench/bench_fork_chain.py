"""A chain of forks: each run forked from the previous one. Before the fork's ancestry was kept on
its row and long chains were joined instead of OR-ed, the 400th fork took ~0.7 s (quadratic over
the chain); each fork should now cost about the same at any depth.

    python bench/bench_fork_chain.py [--depth 400]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from trackwell.schema import Batch, History, RunStart
from trackwell.server.ingest import Ingestor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ing = Ingestor.open(f"sqlite:///{Path(tmp) / 't.db'}", Path(tmp) / "m.duckdb")
        records = [RunStart(seq=1, ts=0.0, entity="e", project="p", run_id="r0")]
        records += [History(seq=i + 2, ts=0.0, step=i, runtime=0.0, data={"x": float(i)})
                    for i in range(args.depth + 100)]
        ing.apply("e", "p", "r0", Batch(writer=uuid.uuid4().hex, records=records))
        times = []
        for n in range(1, args.depth + 1):
            t = time.perf_counter()
            ing.services.lifecycle.fork("e", "p", f"r{n}", f"r{n - 1}", args.depth + 100 - n, {})
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ing.services.lifecycle.resume_info("e", "p", f"r{args.depth}")
        info = time.perf_counter() - t
        ing.close()
    marks = sorted({1, args.depth // 4, args.depth // 2, args.depth})
    print("fork in a chain: " + ", ".join(f"#{n} {times[n - 1] * 1000:.1f} ms" for n in marks if n >= 1))
    print(f"resume info of the deepest fork: {info * 1000:.1f} ms; all {args.depth} forks: {sum(times):.2f} s")


if __name__ == "__main__":
    main()
