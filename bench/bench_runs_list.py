"""Runs list of a 100,000-run project, sorted by a summary metric, server-side.

Target (DESIGN.md): <= 200 ms. The runs are bulk-inserted straight into the metadata tables
(ingesting 100k runs through the API would only time the set-up); the query is the server's
own `MetadataStore.list_runs`, the function behind `GET /api/v1/runs/{entity}/{project}`.

    python bench/bench_runs_list.py [--runs N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata import MetadataStore
from trackwell.store.metadata._summaries import insert_summaries
from trackwell.store.metadata._tables import runs

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("order=-summary.loss", {"order": "-summary.loss"}),
    ("order=+config.lr", {"order": "+config.lr"}),
    ("order=-created_at", {"order": "-created_at"}),
    ("filter summary.acc>0.9, order=-summary.loss", {"order": "-summary.loss", "filters": {"summary.acc": {"$gt": 0.9}}}),
]


def fill(store: MetadataStore, n: int) -> None:
    rng = random.Random(0)
    now = time.time()
    defaults: dict[str, Any] = {}
    for column in runs.c:  # fill whatever NOT NULL columns the schema has grown
        if not column.nullable and not column.primary_key and column.server_default is None:
            defaults[column.name] = [] if column.name in ("tags", "pinned") else (
                {} if isinstance(column.type, sa.JSON) or "Json" in type(column.type).__name__ else 0)
    rows, summaries = [], []
    for i in range(n):
        row = dict(defaults)
        row.update(entity="bench", project="many", run_id=f"r{i:07d}", name=f"run-{i}", state="finished",
                   config={"lr": rng.random() / 10, "batch": rng.choice([32, 64, 128])},
                   created_at=now + i, updated_at=now + i)
        rows.append(row)
        summaries.append({"loss": rng.random(), "acc": rng.random()})
    with store.write() as conn:
        for start in range(0, n, 10_000):
            conn.execute(runs.insert(), rows[start:start + 10_000])
        pks = dict(conn.execute(sa.select(runs.c.run_id, runs.c.pk).where(runs.c.project == "many")).all())
        insert_summaries(conn, {pks[r["run_id"]]: s for r, s in zip(rows, summaries, strict=True)})
    with store.engine.begin() as conn:  # planner statistics, as autovacuum would gather on a live server
        conn.execute(sa.text("ANALYZE"))


def measure(store: MetadataStore, label: str, kwargs: dict[str, Any], trials: int = 10) -> None:
    first, second = [], []
    for _ in range(trials):
        t0 = time.perf_counter()
        page, cursor = store.list_runs("bench", "many", limit=50, **kwargs)
        t1 = time.perf_counter()
        store.list_runs("bench", "many", limit=50, cursor=cursor, **kwargs)
        t2 = time.perf_counter()
        first.append(t1 - t0)
        second.append(t2 - t1)
    print(f"  {label:45s} first page {statistics.median(first) * 1e3:7.1f} ms   "
          f"next page {statistics.median(second) * 1e3:7.1f} ms   ({len(page)} runs/page)")


def run(url: str, n: int) -> None:
    store = MetadataStore(url)
    try:
        t0 = time.perf_counter()
        fill(store, n)
        print(f"{store.dialect}: {n:,} runs inserted in {time.perf_counter() - t0:.1f} s (set-up, not the target)")
        for label, kwargs in QUERIES:
            measure(store, label, kwargs)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--postgres", help="also measure on PostgreSQL (a scratch database is created)")
    args = parser.parse_args()
    print(f"runs list, {args.runs:,} runs, 50 per page, median of 10 (target <= 200 ms)")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'meta.db'}", args.runs)
    if args.postgres:
        admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1),
                                 isolation_level="AUTOCOMMIT")
        name = f"trackwell_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            run(admin.url.set(database=name).render_as_string(hide_password=False), args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
