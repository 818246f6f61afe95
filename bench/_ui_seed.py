"""Seed many runs fast (for bench/bench_ui.py's runs-table figure).

Through the API, each run is one msgpack batch to ``POST /runs/{entity}/{project}/{id}/records``:
its start (name, group, job type, tags, config), a summary (loss, acc, epoch) and, for most, its
exit (~1% fail, ~0.5% stay running), sent from a pool of threads. That is how an SDK creates runs,
but the server's ingest costs ~30 ms of CPU per run (projection, outbox, metrics store): 100k runs
would take most of an hour on 2 cores. So with ``data_dir`` (the SQLite server's ``--data-dir``),
the first ``API_RUNS`` runs go through the API (the project, its owner and every code path a real
run takes) and the rest are bulk-inserted into its ``runs`` table, copying the shape of an
API-made row (the way bench_runs_list.py fills its store): 100k runs in well under a minute. The
runs table reads nothing else of a run.

    python bench/_ui_seed.py [--runs 100000] [--api-only]   # times seeding a fresh server
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from trackwell.schema import Batch, Exit, RunStart, SummaryUpdate
from trackwell.transport import Client

GROUPS = ["baseline", "sweep-a", "sweep-b", "ablation"]
JOB_TYPES = ["train", "eval"]


def run_batch(entity: str, project: str, index: int, rng: random.Random) -> tuple[str, Batch]:
    run_id = f"r{index:07d}"
    now = time.time()
    lr = 10 ** rng.uniform(-5, -1)
    loss = rng.uniform(0.01, 2.0)
    records: list = [
        RunStart(seq=1, ts=now, entity=entity, project=project, run_id=run_id, name=f"run-{index}",
                 group=rng.choice(GROUPS), job_type=rng.choice(JOB_TYPES), tags=[f"t{index % 7}"],
                 config={"lr": lr, "batch": rng.choice([32, 64, 128, 256]), "seed": index,
                         "model": {"layers": rng.choice([6, 12, 24]), "width": rng.choice([256, 512, 1024])}},
                 host="bench", program="train.py"),
        SummaryUpdate(seq=2, ts=now, update={"loss": loss, "acc": 1 - loss / 2, "epoch": rng.randint(1, 100)}),
    ]
    roll = rng.random()
    if roll >= 0.005:  # the rest stay running
        records.append(Exit(seq=3, ts=now, exit_code=1 if roll < 0.015 else 0, runtime=rng.uniform(10, 10_000)))
    return run_id, Batch(writer=uuid.uuid4().hex, records=records)


API_RUNS = 500


def seed_runs(url: str, entity: str, runs: int, project: str = "runs-table", *, data_dir: Path | None = None,
              workers: int = 8) -> str:
    """Create ``runs`` runs in ``entity/project`` on the server at ``url`` (with the key stored for
    it, as the SDK finds it); with ``data_dir`` (its SQLite data dir), all but the first
    ``API_RUNS`` are bulk-inserted. Returns the project's name."""
    through_api = runs if data_dir is None else min(runs, API_RUNS)
    send_through_api(url, entity, project, range(through_api), workers)
    if runs > through_api:
        assert data_dir is not None
        bulk_insert(data_dir, entity, project, range(through_api, runs))
    return project


def send_through_api(url: str, entity: str, project: str, indices: range, workers: int) -> None:
    local = threading.local()
    clients: list[Client] = []
    lock = threading.Lock()

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = Client(base_url=url, timeout=120)
            with lock:
                clients.append(local.client)
        return local.client  # type: ignore[no-any-return]

    def send(chunk: range) -> None:
        rng = random.Random(chunk.start)
        http = client()
        for index in chunk:
            run_id, batch = run_batch(entity, project, index, rng)
            http.send_batch(entity, project, run_id, batch)

    chunks = [indices[i:i + 100] for i in range(0, len(indices), 100)]
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(send, chunks):  # re-raises a worker's error
                del done
    finally:
        for each in clients:
            each.close()


def bulk_insert(data_dir: Path, entity: str, project: str, indices: range, chunk: int = 10_000) -> None:
    """Rows for runs ``indices`` in the server's SQLite ``runs`` table, shaped like a row the API
    made in this project (so every column the schema has is filled as ingest fills it)."""
    import sqlalchemy as sa

    from trackwell.store.metadata import MetadataStore
    from trackwell.store.metadata._summaries import insert_summaries
    from trackwell.store.metadata._tables import runs as runs_table

    store = MetadataStore(f"sqlite:///{data_dir / 'trackwell.db'}")
    try:
        with store.engine.connect() as conn:
            found = conn.execute(sa.select(runs_table).where(runs_table.c.entity == entity,
                                                             runs_table.c.project == project,
                                                             runs_table.c.state == "finished").limit(1)).mappings().first()
        if found is None:
            raise RuntimeError(f"no finished run in {entity}/{project} to copy the row shape from: seed some "
                               "through the API first")
        template = {k: v for k, v in found.items() if k != "pk"}
        rng = random.Random(indices.start)
        now = time.time()
        for start in range(0, len(indices), chunk):
            made = [_bulk_row(template, entity, project, i, rng, now) for i in indices[start:start + chunk]]
            with store.write() as conn:
                conn.execute(runs_table.insert(), [row for row, _ in made])
                pks = dict(conn.execute(sa.select(runs_table.c.run_id, runs_table.c.pk).where(
                    runs_table.c.entity == entity, runs_table.c.project == project,
                    runs_table.c.run_id.in_([row["run_id"] for row, _ in made]))).all())
                # an API-made run's summary came from run.summary[...] = ...: pinned, as ingest pins it
                insert_summaries(conn, {pks[row["run_id"]]: summary for row, summary in made}, pinned=True)
    finally:
        store.close()


def _bulk_row(template: dict[str, Any], entity: str, project: str, index: int, rng: random.Random,
              now: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's row and its summary (kept per key in ``run_summary``)."""
    run_id, batch = run_batch(entity, project, index, rng)
    start, summary = batch.records[0], batch.records[1]
    assert isinstance(start, RunStart) and isinstance(summary, SummaryUpdate)
    failed = rng.random() < 0.01  # bulk rows have all ended: a running row would need a writer and heartbeats
    created = now - rng.uniform(0, 86_400 * 30)
    runtime = rng.uniform(10, 10_000)
    row = {**template, "run_id": run_id, "name": start.name, "group": start.group, "job_type": start.job_type,
           "tags": start.tags, "config": start.config,
           "state": "failed" if failed else "finished", "exit_code": 1 if failed else 0,
           "created_at": created, "updated_at": created + runtime, "heartbeat_at": created + runtime,
           "runtime": runtime}
    return row, {**summary.update, "_step": 0}


def main() -> None:
    from _server import login_entity, start_server, stop_server

    parser = argparse.ArgumentParser(description="Time seeding N runs into a fresh server through its API.")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--api-only", action="store_true", help="every run through the API (slow: ~30 ms each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "server"
        proc, url = start_server(data_dir)
        try:
            t0 = time.perf_counter()
            project = seed_runs(url, login_entity(url), args.runs, data_dir=None if args.api_only else data_dir,
                                workers=args.workers)
            took = time.perf_counter() - t0
            print(f"seeded {args.runs:,} runs into {project} in {took:.1f} s ({args.runs / took:,.0f} runs/s)")
            import httpx
            from _server import auth_headers

            listed = httpx.get(f"{url}/api/v1/projects/{login_entity(url)}/{project}", headers=auth_headers(url),
                               timeout=60).json()
            print(f"the server lists {listed['runs']:,} runs in {project}")
        finally:
            stop_server(proc)


if __name__ == "__main__":
    main()
