"""A saturated server accepts batches without projecting them; the catch-up task then takes a
run's piled-up entries in one transaction per store. What it stores is exactly what projecting
batch by batch stores; an entry a store refuses still ends quarantined on its own."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from trackwell.schema import Console, encode
from trackwell.schema.blocks import pack
from trackwell.server.ingest import Ingestor


def _rows(j: Any, n: int, started: float) -> list[Any]:
    rows = []
    for _ in range(n):
        rec = j.log({"loss": float(j.seq), "acc": j.seq % 7})
        rec.ts = started + rec.seq * 0.01
        rec.runtime = rec.ts - started
        rec.data.update(_runtime=rec.runtime, _timestamp=rec.ts)
        rows.append(rec)
    return pack(rows)  # blocks, as today's SDK journals them


def _history(ing: Ingestor, pk: int, key: str) -> list[tuple[int, float]]:
    stats = ing.metrics.sample(pk, [key], 100_000)
    return [(row["_step"], row[key]) for row in stats if key in row]


def test_deferred_batches_are_projected_together_exactly_once(ingestor: Ingestor, project: tuple[str, str],
                                                              journal: Any) -> None:
    j = journal(*project, "deferred")
    started = time.time()
    ingestor.apply(*project, "deferred", j.batch([j.start()]))
    ingest = ingestor.services.ingest
    for _ in range(6):
        ack = ingest.receive(*project, "deferred", j.batch(_rows(j, 50, started)), project_now=False)
        assert ack.applied_seq == j.seq  # acknowledged: in the log, not yet in the stores
    pk = ingestor.metadata.run_pk(*project, "deferred")
    assert pk is not None
    assert len(ingestor.metadata.log_entries(pk)) == 6 and ingest.deferred == 6
    assert ingestor.metrics.last_step(pk) is None

    assert ingestor.catch_up() == 0
    assert ingestor.metadata.log_entries(pk) == [] and ingest.deferred == 0
    assert [step for step, _ in _history(ingestor, pk, "loss")] == list(range(300))
    run = ingestor.metadata.get_run(*project, "deferred")
    assert run is not None
    assert run["summary"]["loss"] == float(j.seq - 1) and run["summary"]["_step"] == 299  # the last row logged seq - 1
    events = [e for e in ingestor.metadata.events(run_pk=pk) if e["kind"] == "metrics_applied"]
    assert sum(e["payload"]["rows"] for e in events) == 300


def test_a_refused_entry_among_deferred_ones_is_quarantined_alone(postgres_url: str, tmp_path: Path,
                                                                  project: tuple[str, str], journal: Any) -> None:
    ing = Ingestor.open(postgres_url, tmp_path / "metrics.duckdb")
    try:
        j = journal(*project, "mixed")
        started = time.time()
        ing.apply(*project, "mixed", j.batch([j.start()]))
        ingest = ing.services.ingest
        ingest.receive(*project, "mixed", j.batch(_rows(j, 20, started)), project_now=False)
        pk = ing.metadata.run_pk(*project, "mixed")
        assert pk is not None
        # slipped past validation (as a future gap would let it): PostgreSQL refuses the NUL byte
        bad = Console(seq=j.seq + 1, ts=time.time(), stream="stdout", lines=["a\x00b"])
        with ing.metadata.accepting(pk) as acc:
            acc.append(j.writer, j.seq + 1, j.seq + 1, encode([bad]), time.time())
            acc.update_writer(j.writer, accepted_seq=j.seq + 1)
        j.seq += 1
        ingest.receive(*project, "mixed", j.batch(_rows(j, 20, started)), project_now=False)
        for _ in range(4):  # with the other runs' entries, then alone: retried, then set aside
            ing.catch_up()
        assert ing.metadata.log_entries(pk) == []
        steps = np.array([step for step, _ in _history(ing, pk, "loss")])
        assert steps.tolist() == list(range(40))  # both good entries, once each
        events = [e for e in ing.metadata.events(run_pk=pk) if e["kind"] == "ingest_quarantined"]
        assert len(events) == 1 and events[0]["payload"]["first_seq"] == 22
    finally:
        ing.close()


def test_one_catch_up_pass_takes_many_runs_points_in_one_metric_store_transaction(
        ingestor: Ingestor, project: tuple[str, str], journal: Any, monkeypatch: Any) -> None:
    started = time.time()
    ingest = ingestor.services.ingest
    runs = {f"many{i}": journal(*project, f"many{i}") for i in range(20)}
    for run_id, j in runs.items():
        ingestor.apply(*project, run_id, j.batch([j.start()]))
        for _ in range(3):
            ingest.receive(*project, run_id, j.batch(_rows(j, 10 + len(run_id), started)), project_now=False)
    calls: list[int] = []
    append_many = ingestor.metrics.append_many

    def counted(items: Any) -> list[bool]:
        calls.append(len(items))
        return append_many(items)

    monkeypatch.setattr(ingestor.metrics, "append_many", counted)
    assert ingestor.catch_up() == 0
    assert calls == [20]  # every run's three batches, one transaction
    for run_id in runs:
        pk = ingestor.metadata.run_pk(*project, run_id)
        assert pk is not None and ingestor.metadata.log_entries(pk) == []
        rows = 3 * (10 + len(run_id))
        assert [step for step, _ in _history(ingestor, pk, "loss")] == list(range(rows))
        run = ingestor.metadata.get_run(*project, run_id)
        assert run is not None and run["summary"]["_step"] == rows - 1


def test_a_request_projecting_while_a_catch_up_pass_appends_loses_nothing(
        ingestor: Ingestor, project: tuple[str, str], journal: Any, monkeypatch: Any) -> None:
    """The catch-up appends staged points outside the run's lock; a request projecting the same
    run meanwhile finds the metric store's mark moved and must look again, not apply metadata past
    the points the store has (which lost those points for good)."""
    j = journal(*project, "race")
    started = time.time()
    ingestor.apply(*project, "race", j.batch([j.start()]))
    ingest = ingestor.services.ingest
    ingest.receive(*project, "race", j.batch(_rows(j, 30, started)), project_now=False)
    pk = ingestor.metadata.run_pk(*project, "race")
    assert pk is not None
    projector = ingest._projector
    staged = projector._stage(pk, (*project, "race"))
    assert staged is not None
    real = ingestor.metrics.append_many
    fired: list[bool] = []

    def catch_up_lands_first(items: Any) -> list[bool]:
        if not fired:  # the pass's metric-store transaction commits first; its metadata waits for the lock
            fired.append(True)
            assert real([s.ready.append for s in staged if s.ready.append is not None]) == [True]
        return real(items)

    monkeypatch.setattr(ingestor.metrics, "append_many", catch_up_lands_first)
    ingest.receive(*project, "race", j.batch(_rows(j, 30, started)))  # projected now: races the pass
    assert fired
    ingestor.catch_up()
    assert ingestor.metadata.log_entries(pk) == []
    assert [step for step, _ in _history(ingestor, pk, "loss")] == list(range(60))
    metrics = ingestor.metadata.get_run(*project, "race")
    assert metrics is not None and metrics["summary"]["_step"] == 59
