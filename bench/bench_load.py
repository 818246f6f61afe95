"""Many concurrent online runs against one server: throughput, freshness, reads under load, 429s.

Target (issue 10): 1,000 runs, each logging 10 metrics at 10 steps/s, on one server: every point
delivered exactly once, p99 freshness (log -> queryable) <= 5 s, reads (runs list, a chart)
<= 200 ms meanwhile; when saturated the server answers 429 with Retry-After instead of timing
clients out.

The runs are not SDK processes (1,000 uploader threads would measure the load generator): a few
asyncio processes send the same batches with the uploader's protocol. Each run has a writer id and
gap-free seqs starting with its RunStart; a batch is everything past the last ack (at most
``MAX_RECORDS``), sent at the SDK's cadence (``--interval``: at most one batch per interval unless a
full batch is waiting); an ack drops what it covers, a 409 sequence gap resends from the server's
mark, a 429 waits its Retry-After, and a 5xx or a timeout resends the same batch under the same
retry id. Step ``s`` of every run is logged at ``t0 + s / rate``.

Printed: accepted batches/s and points/s during the load window, request latency p50/p99, 429s;
freshness p50/p99 (sampled: the age of the newest step a chart of a random run shows); latency of
the runs list and of one chart under load; then, after the load stops and the runs drain, an
exactly-once check through the API (each run's per-key counts and its chart's point count equal
the steps it logged).

    python bench/bench_load.py [--runs 100] [--seconds 60] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
from _server import auth_headers, login_entity, start_server, stop_server

from trackwell.schema import Batch, History, RunStart, encode
from trackwell.transport._client import parse_retry_after

PROJECT = "load"
KEYS = [f"m{j}" for j in range(10)]
MAX_RECORDS = 1000  # the SDK's batch cap (transport.BatchBudget)
MSGPACK = "application/msgpack"


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # every ingest request, any answer
    batches: int = 0  # acknowledged within the load window
    points: int = 0
    refused: int = 0  # 429
    errors: dict[str, int] = field(default_factory=dict)  # other failures, by kind
    steps: dict[str, int] = field(default_factory=dict)  # run id -> steps logged
    undelivered: dict[str, int] = field(default_factory=dict)  # run id -> records left at the deadline

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass
class Plan:
    url: str
    headers: dict[str, str]
    entity: str
    t0: float  # wall clock of step 0
    end: float  # no step is logged from here on
    drain_until: float  # runs give up delivering here
    rate: float  # steps/s per run
    interval: float  # seconds between a run's sends
    timeout: float


def _row(plan: Plan, seq: int, step: int) -> History:
    return History(seq=seq, ts=plan.t0 + step / plan.rate, step=step, runtime=step / plan.rate,
                   data={k: step * 0.5 + j for j, k in enumerate(KEYS)})


async def _run(client: httpx.AsyncClient, plan: Plan, run_id: str, stats: Stats) -> None:
    """One run's uploader: log steps as time passes, send what is unacknowledged, drain at the end."""
    writer = uuid.uuid4().hex
    path = f"/api/v1/runs/{plan.entity}/{PROJECT}/{run_id}/records"
    pending: list[Any] = [RunStart(seq=1, ts=plan.t0, entity=plan.entity, project=PROJECT, run_id=run_id)]
    seq, step = 1, 0
    interval = plan.interval
    await asyncio.sleep(max(0.0, plan.t0 - time.time()) + random.random() * interval)  # runs out of phase
    retry_id: str | None = None  # set while the same batch is being resent
    backoff = 0.0
    while True:
        now = time.time()
        upto = int((min(now, plan.end) - plan.t0) * plan.rate)
        while step < upto:
            seq += 1
            pending.append(_row(plan, seq, step))
            step += 1
        if now >= plan.end and not pending:
            break
        if now >= plan.drain_until:
            stats.undelivered[run_id] = len(pending)
            break
        batch = pending[:MAX_RECORDS]
        retry_id = retry_id or uuid.uuid4().hex
        wait = interval
        t = time.perf_counter()
        try:
            response = await client.post(path, content=encode(Batch(writer=writer, records=batch)),
                                         headers={"Content-Type": MSGPACK, "Accept": MSGPACK,
                                                  "X-Trackwell-Retry-Id": retry_id})
        except httpx.TimeoutException:
            stats.error("timeout")
            response = None
        except httpx.TransportError as exc:
            stats.error(type(exc).__name__)
            response = None
        stats.latencies.append(time.perf_counter() - t)
        if response is None or response.status_code >= 500:
            if response is not None:
                stats.error(f"HTTP {response.status_code}")
            backoff = min(30.0, max(1.0, backoff * 2))  # the same batch again, same retry id
            wait = backoff * (0.5 + random.random() / 2)
        elif response.status_code == 429:
            stats.refused += 1
            retry_id = None
            wait = max(interval, parse_retry_after(response.headers.get("retry-after")) or 1.0)
        else:
            body = msgspec.msgpack.decode(response.content) if response.content else {}
            retry_id, backoff = None, 0.0
            if response.status_code == 200:
                applied = int(body["applied_seq"])
                interval = max(plan.interval, float(body.get("flush_interval") or 0.0))
                if time.time() < plan.end:
                    stats.batches += 1
                    stats.points += sum(len(r.data) for r in batch if isinstance(r, History) and r.seq <= applied)
            elif response.status_code == 409 and body.get("error") == "sequence_gap":
                applied = int(body["applied_seq"])
            else:
                raise RuntimeError(f"{run_id}: HTTP {response.status_code}: {body}")
            pending = [r for r in pending if r.seq > applied]
            wait = 0.0 if len(pending) >= MAX_RECORDS else interval
        await asyncio.sleep(max(0.0, wait - (time.perf_counter() - t)))
    stats.steps[run_id] = step


def _load(plan: Plan, run_ids: list[str]) -> Stats:
    """A load process: its share of the runs, each as a coroutine on one connection pool."""
    async def main() -> Stats:
        stats = Stats()
        limits = httpx.Limits(max_connections=len(run_ids), max_keepalive_connections=len(run_ids))
        async with httpx.AsyncClient(base_url=plan.url, headers=plan.headers, timeout=plan.timeout,
                                     limits=limits) as client:
            await asyncio.gather(*(_run(client, plan, run_id, stats) for run_id in run_ids))
        return stats

    return asyncio.run(main())


@dataclass
class Reads:
    runs_list: list[float] = field(default_factory=list)
    chart: list[float] = field(default_factory=list)
    freshness: list[float] = field(default_factory=list)
    failed: int = 0


async def _sample(plan: Plan, run_ids: list[str], every: float) -> Reads:
    """Reads during the load window: the runs list and a random run's chart, alternately; the
    chart's newest step gives the freshness (how long ago that step was logged)."""
    reads = Reads()
    async with httpx.AsyncClient(base_url=plan.url, headers={**plan.headers, "Accept": MSGPACK},
                                 timeout=plan.timeout) as client:
        await asyncio.sleep(max(0.0, plan.t0 + 5 - time.time()))  # past the first sends
        turn = 0
        while time.time() < plan.end:
            run_id = random.choice(run_ids)
            base = f"/api/v1/runs/{plan.entity}/{PROJECT}"
            t = time.perf_counter()
            try:
                if turn % 2 == 0:
                    response = await client.get(base, params={"limit": 50})
                    if response.status_code == 200:
                        reads.runs_list.append(time.perf_counter() - t)
                    else:
                        reads.failed += 1
                else:
                    response = await client.get(f"{base}/{run_id}/history/buckets",
                                                params={"key": "m0", "buckets": 1000})
                    now = time.time()
                    if response.status_code == 200:
                        reads.chart.append(time.perf_counter() - t)
                        last = msgspec.msgpack.decode(response.content)["last"]
                        newest = plan.t0 + last["step"] / plan.rate if last else plan.t0
                        reads.freshness.append(now - newest)
                    elif response.status_code == 404:  # nothing of it queryable yet
                        reads.freshness.append(now - plan.t0)
                    else:
                        reads.failed += 1
            except httpx.HTTPError:
                reads.failed += 1
            turn += 1
            await asyncio.sleep(every)
    return reads


async def _verify(plan: Plan, steps: dict[str, int]) -> tuple[int, int, list[str]]:
    """Exactly once, through the API: (runs checked, points found, problems)."""
    problems: list[str] = []
    found = 0
    gate = asyncio.Semaphore(16)

    async def check(client: httpx.AsyncClient, run_id: str, expected: int) -> None:
        nonlocal found
        base = f"/api/v1/runs/{plan.entity}/{PROJECT}/{run_id}"
        async with gate:
            metrics = msgspec.msgpack.decode((await client.get(f"{base}/metrics")).content)["metrics"]
            chart = await client.get(f"{base}/history/buckets", params={"key": "m0", "buckets": 10})
        counts = {k: int(metrics.get(k, {}).get("count", 0)) for k in KEYS}
        points = msgspec.msgpack.decode(chart.content)["count"] if chart.status_code == 200 else 0
        found += sum(counts.values())
        if any(c != expected for c in counts.values()) or points != expected:
            problems.append(f"{run_id}: logged {expected} steps; per-key counts {sorted(set(counts.values()))}, "
                            f"chart points {points}")

    async with httpx.AsyncClient(base_url=plan.url, headers={**plan.headers, "Accept": MSGPACK},
                                 timeout=120) as client:
        await asyncio.gather(*(check(client, r, n) for r, n in steps.items()))
    return len(steps), found, problems


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"p50 {_pct(values, 0.5) * 1e3:,.0f} ms, p99 {_pct(values, 0.99) * 1e3:,.0f} ms (n={len(values)})"


def bench(url: str, args: argparse.Namespace) -> None:
    start = time.time() + 3  # the load processes are up by then
    plan = Plan(url=url, headers=auth_headers(url), entity=login_entity(url), t0=start, end=start + args.seconds,
                drain_until=start + args.seconds + args.drain, rate=args.rate, interval=args.interval,
                timeout=args.timeout)
    run_ids = [f"load{i:05d}" for i in range(args.runs)]
    shares = [run_ids[i::args.procs] for i in range(args.procs)]
    with ProcessPoolExecutor(args.procs) as pool:
        futures = [pool.submit(_load, plan, share) for share in shares]
        reads = asyncio.run(_sample(plan, run_ids, args.read_every))
        results = [f.result() for f in futures]
    drained = time.time() - plan.end
    total = Stats()
    for s in results:
        total.latencies += s.latencies
        total.batches += s.batches
        total.points += s.points
        total.refused += s.refused
        for k, v in s.errors.items():
            total.errors[k] = total.errors.get(k, 0) + v
        total.steps.update(s.steps)
        total.undelivered.update(s.undelivered)
    offered = args.runs * args.rate * len(KEYS)
    print(f"{args.runs} runs x {len(KEYS)} metrics x {args.rate:g} steps/s for {args.seconds:g} s "
          f"(offered {offered:,.0f} points/s), send interval {args.interval:g} s, {args.procs} load processes")
    print(f"  ingest:    {total.batches / args.seconds:,.1f} batches/s, {total.points / args.seconds:,.0f} points/s "
          f"accepted; request latency {_ms(total.latencies)}")
    print(f"  refused:   {total.refused} x 429; other failures: {total.errors or 'none'}")
    print(f"  freshness: p50 {_pct(reads.freshness, 0.5):.2f} s, p99 {_pct(reads.freshness, 0.99):.2f} s "
          f"(n={len(reads.freshness)}; target p99 <= 5 s)")
    print(f"  reads:     runs list {_ms(reads.runs_list)}; chart {_ms(reads.chart)}; failed {reads.failed} "
          "(target <= 200 ms)")
    checked, found, problems = asyncio.run(_verify(plan, total.steps))
    expected = sum(total.steps.values()) * len(KEYS)
    print(f"  drain:     {drained:.1f} s after the load stopped; undelivered at the deadline: "
          f"{sum(total.undelivered.values())} records in {len(total.undelivered)} runs")
    verdict = "OK" if not problems and found == expected else f"FAILED ({len(problems)} runs)"
    print(f"  exactly once: {checked} runs, {found:,} of {expected:,} points, {verdict}")
    for line in problems[:10]:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load window")
    parser.add_argument("--rate", type=float, default=10.0, help="steps/s per run (10 metrics each)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between a run's sends: the SDK's pace (TRACKWELL_UPLOAD_INTERVAL; 0.5 before it had one)")
    parser.add_argument("--procs", type=int, default=2, help="load generator processes")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds the runs have to deliver after the load")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout (the SDK's default)")
    parser.add_argument("--read-every", type=float, default=0.25, help="seconds between sampled reads")
    parser.add_argument("--postgres", metavar="URL", help="metadata in a scratch database on this server")
    parser.add_argument("--server-arg", action="append", default=[], help="extra `trackwell server` option")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        extra = list(args.server_arg)
        dropdb = None
        if args.postgres:
            import sqlalchemy as sa

            name = f"trackwell_load_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1),
                                     isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            extra += ["--db", admin.url.set(database=name).render_as_string(hide_password=False)]

            def dropdb() -> None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

        proc, url = start_server(Path(tmp) / "server", None, *extra)
        print(f"server pid {proc.pid} ({'PostgreSQL' if args.postgres else 'SQLite'} metadata, DuckDB metrics)")
        try:
            bench(url, args)
        finally:
            stop_server(proc)
            if dropdb is not None:
                dropdb()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
