"""What authentication costs on the ingest path: points/s with API keys on vs ``--auth none``.

Two real `trackwell server` processes (same build, fresh SQLite + DuckDB each): one checks a bearer
key on every batch, the other runs ``--auth none``. The same batches go to each, in alternating
rounds so that machine noise falls on both; small batches (the SDK's steady-state shape) make the
per-request cost visible. Target (issue 8): < 3 % overhead.

    python bench/bench_auth.py [--rounds 5] [--rows-per-batch 50] [--batches 400]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _server import start_server, stop_server

from trackwell import _credentials
from trackwell.schema import Batch, History, RunStart
from trackwell.transport import Client

KEYS = [f"metric_{j}" for j in range(10)]


def run_batches(run_id: str, first_step: int, batches: int, rows: int, seq0: int) -> list[Batch]:
    out, seq, step = [], seq0, first_step
    for _ in range(batches):
        records = []
        for _ in range(rows):
            seq += 1
            records.append(History(seq=seq, ts=1.7e9 + step, step=step, runtime=step * 0.01,
                                   data={k: step * 0.5 + j for j, k in enumerate(KEYS)}))
            step += 1
        out.append(Batch(writer=run_id, records=records))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows-per-batch", type=int, default=50)
    parser.add_argument("--batches", type=int, default=400, help="batches per round and server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"  # both bootstraps write their keys here
        on, on_url = start_server(Path(tmp) / "keys", None, config_dir=config)
        off, off_url = start_server(Path(tmp) / "none", None, "--auth", "none", config_dir=config)
        key = _credentials.load(on_url)
        assert key is not None, "the keys server wrote no credential"
        clients = {"keys": Client(on_url, api_key=key.api_key, timeout=120), "none": Client(off_url, timeout=120)}
        clients["none"]._http.headers.pop("Authorization", None)  # the point: no key at all
        rates: dict[str, list[float]] = {"keys": [], "none": []}
        try:
            for client in clients.values():
                client.send_batch("bench", "auth", "run", Batch(writer="run", records=[
                    RunStart(seq=1, ts=time.time(), entity="bench", project="auth", run_id="run")]))
            seq = step = 1
            for r in range(args.rounds):
                sent = run_batches("run", step, args.batches, args.rows_per_batch, seq)
                order = ("keys", "none") if r % 2 == 0 else ("none", "keys")
                for name in order:
                    t0 = time.perf_counter()
                    for batch in sent:
                        clients[name].send_batch("bench", "auth", "run", batch)
                    rates[name].append(args.batches * args.rows_per_batch * len(KEYS) / (time.perf_counter() - t0))
                seq = sent[-1].records[-1].seq
                step += args.batches * args.rows_per_batch
        finally:
            for client in clients.values():
                client.close()
            for proc in (on, off):
                stop_server(proc)
        per_request = args.rows_per_batch * len(KEYS)
        print(f"ingest over HTTP, {args.rounds} alternating rounds of {args.batches} batches x {args.rows_per_batch} rows "
              f"({per_request} points per request):")
        for name in ("keys", "none"):
            print(f"  --auth {name:5}: median {statistics.median(rates[name]):,.0f} points/s "
                  f"(rounds: {', '.join(f'{x:,.0f}' for x in rates[name])})")
        overhead = 1 - statistics.median(rates["keys"]) / statistics.median(rates["none"])
        print(f"  authentication overhead: {overhead * 100:+.1f} % of throughput (target < 3 %)")


if __name__ == "__main__":
    main()
