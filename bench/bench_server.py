"""Server-side figures: ingest throughput and one metric's chart from 1,000,000 points.

Targets (DESIGN.md): ingest >= 1,000,000 points/s in one server process; a 1M-point metric
downsampled to 1,000 buckets (min/max/last) in <= 50 ms server-side.

Ingest is measured twice: in-process (decode a msgpack batch and apply it to SQLite + DuckDB,
what one server process does per request) and end to end over HTTP against a real
`trackwell server` subprocess. The downsample is timed in-process (server-side) and over HTTP.
Where mlflow is installed (`pip install -e '.[bench]'`), its tracking store is measured in the
same run: ingest through `log_batch`, and reading one metric's history back.

    python bench/bench_server.py [--points N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _server import start_server

from trackwell.schema import Batch, History, RunStart, encode
from trackwell.transport import Client

KEYS = [f"metric_{j}" for j in range(10)]


def batches(run_id: str, steps: int, per_batch: int, writer: str = "bench") -> list[Batch]:
    records: list = [RunStart(seq=1, ts=time.time(), entity="bench", project="ingest", run_id=run_id)]
    seq = 1
    for step in range(steps):
        seq += 1
        records.append(History(seq=seq, ts=1.7e9 + step, step=step, runtime=step * 0.01,
                               data={k: step * 0.5 + j for j, k in enumerate(KEYS)}))
    return [Batch(writer=writer, records=records[i:i + per_batch]) for i in range(0, len(records), per_batch)]


def ingest_in_process(workdir: Path, points: int) -> float:
    from trackwell.server.ingest import Ingestor
    from trackwell.store import open_stores

    stores = open_stores(f"sqlite:///{workdir}/inproc.db", str(workdir / "inproc.duckdb"))
    try:
        ingestor = Ingestor(stores)
        bodies = [encode(b) for b in batches("inproc01", points // len(KEYS), 5_000)]
        t0 = time.perf_counter()
        for body in bodies:
            ingestor.apply_bytes("bench", "ingest", "inproc01", body)
        return time.perf_counter() - t0
    finally:
        stores.close()


def mlflow_figures(workdir: Path, points: int, chart_points: int) -> tuple[float, float, int] | None:
    """The same shapes through MLflow's tracking store (SQLite), when mlflow is installed:
    points/s for 10-metric rows sent with ``log_batch`` (1,000 metrics per call, its limit), and
    the time to read one metric back (MLflow returns every point: it has no downsampling)."""
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/mlflow.db")
    experiment = client.create_experiment("bench")
    ts = int(time.time() * 1000)

    def send(run_id: str, metrics: list[Metric]) -> None:
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start:start + 1000])

    rows = [Metric(k, step * 0.5 + j, ts, step) for step in range(points // len(KEYS)) for j, k in enumerate(KEYS)]
    ingest_run = client.create_run(experiment).info.run_id
    t0 = time.perf_counter()
    send(ingest_run, rows)
    rate = len(rows) / (time.perf_counter() - t0)

    chart_run = client.create_run(experiment).info.run_id
    send(chart_run, [Metric("loss", 1.0 / (s + 1), ts, s) for s in range(chart_points)])
    t0 = time.perf_counter()
    history = client.get_metric_history(chart_run, "loss")
    return rate, time.perf_counter() - t0, len(history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="points to ingest (10 per step)")
    parser.add_argument("--chart-points", type=int, default=1_000_000)
    parser.add_argument("--peer-points", type=int, default=100_000,
                        help="points for MLflow's ingest and chart (it is far slower)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        elapsed = ingest_in_process(workdir, args.points)
        inproc_rate = args.points / elapsed
        print(f"ingest, in-process (decode + SQLite + DuckDB): {args.points:,} points in {elapsed:.2f} s "
              f"= {inproc_rate:,.0f} points/s (target >= 1,000,000)")

        proc, url = start_server(workdir / "server")
        try:
            client = Client(base_url=url, timeout=120)
            sent = batches("http0001", args.points // len(KEYS), 5_000)
            t0 = time.perf_counter()
            for batch in sent:
                client.send_batch("bench", "ingest", "http0001", batch)
            elapsed = time.perf_counter() - t0
            print(f"ingest, over HTTP to one server process:       {args.points:,} points in {elapsed:.2f} s "
                  f"= {args.points / elapsed:,.0f} points/s")

            # One metric with 1M points.
            chart = [Batch(writer="chart", records=[RunStart(seq=1, ts=0.0, entity="bench", project="chart", run_id="chart001")])]
            steps = args.chart_points
            per = 50_000
            for start in range(0, steps, per):
                chart.append(Batch(writer="chart", records=[
                    History(seq=s + 2, ts=1.7e9 + s, step=s, runtime=float(s), data={"loss": 1.0 / (s + 1)})
                    for s in range(start, min(steps, start + per))]))
            for batch in chart:
                client.send_batch("bench", "chart", "chart001", batch)
            path = Client.run_path("bench", "chart", "chart001") + "/history/buckets"
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                result = client.get(path, {"key": "loss", "buckets": 1000})
                times.append(time.perf_counter() - t0)
            assert result["count"] == steps, result["count"]
            print(f"chart of one metric, {steps:,} points -> {len(result['buckets'])} buckets over HTTP: "
                  f"median {statistics.median(times) * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(15)

        from trackwell.store import open_stores

        stores = open_stores(f"sqlite:///{workdir}/server/trackwell.db", str(workdir / "server" / "metrics.duckdb"))
        try:
            run_pk = stores.metadata.run_pk("bench", "chart", "chart001")
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                stores.metrics.downsample(run_pk, "loss", 1000)
                times.append(time.perf_counter() - t0)
            print(f"chart of one metric, {steps:,} points -> 1000 buckets server-side: "
                  f"median {statistics.median(times) * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms (target <= 50 ms)")
        finally:
            stores.close()

        peer = mlflow_figures(workdir, args.peer_points, args.peer_points)
        if peer is None:
            print("mlflow: not installed (pip install -e '.[bench]' to compare)")
        else:
            rate, read, n = peer
            print(f"mlflow (SQLite store), same run: ingest {rate:,.0f} points/s with log_batch "
                  f"(trackwell in-process is {inproc_rate / rate:,.0f}x that); reading one {n:,}-point metric "
                  f"back takes {read * 1e3:,.0f} ms (every point: MLflow has no server-side downsampling)")


if __name__ == "__main__":
    main()
