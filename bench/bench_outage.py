"""`run.log()` latency with the server healthy and with the server down, then recovery.

Starts a real `trackwell server`, logs 10 floats per call at a steady rate for ``--healthy``
seconds, stops the server for ``--outage`` seconds while logging goes on, restarts it on the same
port and data dir, and times how long delivery takes to catch up. The target: log() latency does
not change during the outage (the writer never waits for the uploader; the journal holds the rest),
memory stays flat, and the server ends up with every point exactly once.

    python bench/bench_outage.py [--outage 10] [--long]   # --long: a 10-minute outage

``--max-interval`` sets TRACKWELL_RETRY_MAX_INTERVAL (the breaker's longest probe interval); the
production default (300 s) would make recovery after a long outage wait for the next probe.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

import httpx
from _server import auth_headers, free_port, start_server, stop_server


def rss_mib() -> float:
    """Resident memory now (not the peak): /proc where there is one, else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log_for(run: Any, seconds: float, rate: int, start: int) -> tuple[array[int], int]:
    """Log 10 floats per call at ``rate`` calls/s for ``seconds``; per-call latencies in ns
    (8 bytes each, so the bench's own bookkeeping hardly shows in the RSS figures)."""
    latencies = array("q")
    rows = [{f"m{j}": j * 0.5 for j in range(10)} for _ in range(100)]  # built before timing
    burst = 100
    i = start
    t_end = time.monotonic() + seconds
    next_burst = time.monotonic()
    clock = time.perf_counter_ns
    while time.monotonic() < t_end:
        for row in rows[:burst]:
            t0 = clock()
            run.log(row)
            latencies.append(clock() - t0)
        i += burst
        next_burst += burst / rate
        pause = next_burst - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    _rss[id(latencies)] = rss_mib()
    return latencies, i


_rss: dict[int, float] = {}  # RSS at the end of each phase, keyed by its latency list


def describe(name: str, latencies: array[int]) -> str:
    rss = _rss[id(latencies)]
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=1000)
    return (f"  {name:16s} {len(lat):>9,} calls   p50 {lat[len(lat) // 2] / 1e3:6.2f} us   "
            f"p99 {q[989] / 1e3:6.2f} us   p99.9 {q[998] / 1e3:7.2f} us   max {lat[-1] / 1e3:8.1f} us   "
            f"mean {statistics.fmean(lat) / 1e3:6.2f} us   RSS at end {rss:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--healthy", type=float, default=10.0, help="seconds of logging with the server up")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the server is down")
    parser.add_argument("--long", action="store_true", help="a 10-minute outage (overrides --outage)")
    parser.add_argument("--rate", type=int, default=5000, help="log() calls per second")
    parser.add_argument("--max-interval", type=float, default=5.0, help="TRACKWELL_RETRY_MAX_INTERVAL")
    args = parser.parse_args()
    outage = 600.0 if args.long else args.outage
    os.environ["TRACKWELL_RETRY_MAX_INTERVAL"] = str(args.max_interval)

    import warnings

    import trackwell
    from trackwell.sdk.journal import read_ack

    warnings.simplefilter("ignore")  # the "cannot upload yet" notice is the expected outcome here
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp) / "server", free_port()
        data.mkdir()
        server, _ = start_server(data, port)
        url = f"http://127.0.0.1:{port}"
        run = trackwell.init(project="bench-outage", dir=tmp, settings={
            "base_url": url, "console": "off", "quiet": True, "finish_timeout": 600})
        healthy, n = log_for(run, args.healthy, args.rate, 0)
        stop_server(server)
        down, n = log_for(run, outage, args.rate, n)
        server, _ = start_server(data, port)
        restarted = time.monotonic()
        after, n = log_for(run, min(args.healthy, 5.0), args.rate, n)
        t0 = time.monotonic()
        run.finish()
        finished = time.monotonic()
        acked = read_ack(run.journal_path())
        counts = httpx.get(f"{url}/api/v1/runs/{run.entity}/bench-outage/{run.id}/metrics",
                           headers=auth_headers(url)).json()["metrics"]
        stop_server(server)

    print(f"log() of 10 floats at {args.rate:,} calls/s; server down for {outage:.0f} s "
          f"(probe interval up to {args.max_interval:g} s)")
    print(describe("server healthy", healthy))
    print(describe("server down", down))
    print(describe("after restart", after))
    print(f"  finish() took {finished - t0:.2f} s; everything acknowledged {finished - restarted:.1f} s after "
          f"the restart (incl. {min(args.healthy, 5.0):g} s of logging after it); acked to seq {acked:,}")
    exact = all(int(v["count"]) == n for k, v in counts.items() if k.startswith("m"))
    print(f"  server holds {int(counts['m0']['count']):,} of {n:,} rows per metric: "
          f"{'exactly once' if exact else 'MISMATCH'}")
    if not exact:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
