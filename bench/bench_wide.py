"""A wide run: 10,000 metric keys, then 10-row batches, timed server-side.

Target (issue 10): a 10-row batch <= 20 ms server-side once the run has 10,000 keys; summaries
updated per changed key, compact outbox events.

In-process, as one server process handles a request: ``Ingestor.apply_bytes`` decodes the msgpack
batch, validates it, appends it to the ingest log and projects it into DuckDB and the metadata
database. The run first gets its 10,000 keys (10 rows of all keys), then batches of 10 rows are
timed: (a) each row logs 10 of the keys (a different 10 each row), (b) each row logs all 10,000.
The metadata transaction (``apply_entry``) is timed on its own as well, and the size of the
events the batches left behind is printed. The process's CPU time per batch is printed beside
the wall time: on a busy machine it moves less (with PostgreSQL it leaves out the database's own).

    python bench/bench_wide.py [--keys 10000] [--batches 30] [--db-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trackwell.schema import Batch, History, RunStart, encode
from trackwell.server.ingest import Ingestor
from trackwell.store.metadata._ingest import SqlIngestLog
from trackwell.store.metadata._tables import events

ENTITY, PROJECT = "bench", "wide"


class Rows:
    """One writer's History rows, numbered as the SDK numbers them."""

    def __init__(self, run_id: str) -> None:
        self.run_id, self.seq, self.step = run_id, 1, 0

    def start(self) -> Batch:
        return Batch(writer=self.run_id, records=[RunStart(seq=1, ts=time.time(), entity=ENTITY, project=PROJECT,
                                                           run_id=self.run_id)])

    def batch(self, rows: int, keys_of: Callable[[int], list[str]]) -> Batch:
        records: list[Any] = []
        for _ in range(rows):
            self.seq += 1
            records.append(History(seq=self.seq, ts=1.7e9 + self.step, step=self.step, runtime=self.step * 0.1,
                                   data={k: self.step * 0.5 + i for i, k in enumerate(keys_of(self.step))}))
            self.step += 1
        return Batch(writer=self.run_id, records=records)


@contextlib.contextmanager
def timed_metadata(times: list[float]) -> Iterator[None]:
    """Record how long each ``apply_entry`` (the metadata transaction) takes."""
    original = SqlIngestLog.apply_entry

    def apply_entry(self: SqlIngestLog, *args: Any, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        original(self, *args, **kwargs)
        times.append(time.perf_counter() - t0)

    SqlIngestLog.apply_entry = apply_entry  # type: ignore[method-assign]
    try:
        yield
    finally:
        SqlIngestLog.apply_entry = original  # type: ignore[method-assign]


def ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(0.9 * (len(values) - 1))]
    return f"median {statistics.median(values) * 1e3:7.1f} ms, p90 {p90 * 1e3:7.1f} ms"


def event_bytes(ingestor: Ingestor, run_pk: int) -> tuple[int, int]:
    """The run's ``metrics_applied`` events: how many, and their payloads' JSON bytes."""
    with ingestor.metadata.engine.connect() as conn:
        payloads = conn.execute(sa.select(events.c.payload).where(
            events.c.run_pk == run_pk, events.c.kind == "metrics_applied")).scalars().all()
    return len(payloads), sum(len(json.dumps(p)) for p in payloads)


def table_bytes(ingestor: Ingestor) -> int:
    with ingestor.metadata.engine.connect() as conn:
        return sum(len(json.dumps(p)) for p in conn.execute(sa.select(events.c.payload)).scalars())


def case(ingestor: Ingestor, run_id: str, keys: list[str], width: int, batches: int) -> None:
    rows = Rows(run_id)
    ingestor.apply_bytes(ENTITY, PROJECT, run_id, encode(rows.start()))
    for _ in range(max(1, len(keys) * 10 // 100_000)):  # every key logged: the run is wide
        ingestor.apply_bytes(ENTITY, PROJECT, run_id, encode(rows.batch(10, lambda _step: keys)))
    run_pk = ingestor.metadata.run_pk(ENTITY, PROJECT, run_id)
    assert run_pk is not None
    n_before, bytes_before = event_bytes(ingestor, run_pk)

    def keys_of(step: int) -> list[str]:
        if width >= len(keys):
            return keys
        start = step * width % len(keys)
        return keys[start:start + width]

    bodies = [encode(rows.batch(10, keys_of)) for _ in range(batches)]
    total: list[float] = []
    cpu: list[float] = []
    metadata: list[float] = []
    with timed_metadata(metadata):
        for body in bodies:
            t0, c0 = time.perf_counter(), time.process_time()
            ingestor.apply_bytes(ENTITY, PROJECT, run_id, body)
            total.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    n_after, bytes_after = event_bytes(ingestor, run_pk)
    run = ingestor.metadata.get_run(ENTITY, PROJECT, run_id)
    assert run is not None
    assert len(run["summary"]) == len(keys) + 1, len(run["summary"])  # every key and _step
    label = f"{width:,} of {len(keys):,} keys per row"
    print(f"10-row batches, {label:>24}: whole batch {ms(total)} (target <= 20 ms), CPU median "
          f"{statistics.median(cpu) * 1e3:.1f} ms; metadata transaction {ms(metadata)}")
    events_made = n_after - n_before
    print(f"{'':35} metrics_applied events: {(bytes_after - bytes_before) / max(events_made, 1):,.0f} bytes "
          f"of payload each; events table {table_bytes(ingestor):,} bytes of payload in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=30, help="timed 10-row batches per case")
    parser.add_argument("--db-url", help="metadata database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    keys = [f"layer_{i // 100:03d}/metric_{i % 100:02d}" for i in range(args.keys)]
    with tempfile.TemporaryDirectory() as tmp:
        ingestor = Ingestor.open(args.db_url or f"sqlite:///{tmp}/trackwell.db", Path(tmp) / "metrics.duckdb")
        try:
            suffix = f"{time.time_ns() % 10**9:09d}"
            case(ingestor, f"narrow{suffix}", keys, 10, args.batches)
            case(ingestor, f"full{suffix}", keys, len(keys), max(3, args.batches // 3))
        finally:
            ingestor.close()


if __name__ == "__main__":
    main()
