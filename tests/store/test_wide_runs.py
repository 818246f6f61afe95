"""Wide runs: a batch changes only the summary keys it logs; the outbox's metrics_applied events
are compact (counts, not keys), read by cursor, and pruned by age (lifecycle events stay)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from trackwell.schema import SummaryUpdate
from trackwell.server.ingest import Ingestor
from trackwell.store.metadata import _summaries
from trackwell.store.metadata._tables import run_summary

KEYS = [f"layer_{i:04d}/loss" for i in range(2500)]  # past _summaries._WHOLE_RUN


def test_a_batch_writes_only_the_keys_it_logs(ingestor: Ingestor, project: tuple[str, str], journal: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    j = journal(*project, "wide")
    ingestor.apply(*project, "wide", j.batch([j.start(), j.log({k: 1.0 for k in KEYS})]))
    ingestor.apply(*project, "wide", j.batch([j.log({k: 3.0 for k in KEYS}), j.log({k: 2.0 for k in KEYS})]))
    pk = ingestor.metadata.run_pk(*project, "wide")
    assert pk is not None
    assert ingestor.metadata.metric_summaries(pk)[KEYS[-1]] == {
        "last": 2.0, "last_step": 2, "min": 1.0, "max": 3.0, "count": 3, "mean": 2.0}
    written: list[str] = []
    write = _summaries.write

    def recording(conn: Any, run_pk: int, rows: Any) -> None:
        written.extend(rows)
        write(conn, run_pk, rows)

    monkeypatch.setattr(_summaries, "write", recording)
    ingestor.apply(*project, "wide", j.batch([j.log({KEYS[3]: 0.5, KEYS[7]: "text"}),
                                              j.record(SummaryUpdate, update={KEYS[9]: 42})]))
    assert sorted(written) == ["_step", KEYS[3], KEYS[7], KEYS[9]]
    run = ingestor.metadata.get_run(*project, "wide")
    assert run is not None
    summary = run["summary"]
    assert len(summary) == len(KEYS) + 1 and summary["_step"] == 3
    assert (summary[KEYS[3]], summary[KEYS[7]], summary[KEYS[9]], summary[KEYS[0]]) == (0.5, "text", 42, 2.0)
    with ingestor.metadata.engine.connect() as conn:
        pinned = conn.execute(sa.select(run_summary.c.key).where(run_summary.c.run_pk == pk,
                                                                 run_summary.c.pinned)).scalars().all()
    assert pinned == [KEYS[9]]


def test_metrics_applied_is_compact_read_by_cursor_and_pruned(ingestor: Ingestor, project: tuple[str, str],
                                                             journal: Any) -> None:
    j = journal(*project, "events")
    ingestor.apply(*project, "events", j.batch([j.start(), *(j.log({k: 1.0 for k in KEYS}) for _ in range(3))]))
    ingestor.apply(*project, "events", j.batch([j.log({KEYS[0]: 2.0, "new": 1.0})]))
    pk = ingestor.metadata.run_pk(*project, "events")
    events = ingestor.metadata.events(run_pk=pk)
    applied = [e["payload"] for e in events if e["kind"] == "metrics_applied"]
    assert applied == [
        {"writer": j.writer, "first_seq": 2, "last_seq": 4, "rows": 3, "points": 7500, "keys": 2500, "new_keys": 2500},
        {"writer": j.writer, "first_seq": 5, "last_seq": 5, "rows": 1, "points": 2, "keys": 2, "new_keys": 1}]
    # by cursor: after the first event, one at a time
    first = events[0]["id"]
    page = ingestor.metadata.events(after_id=first, limit=1, run_pk=pk)
    assert [e["id"] for e in page] == [events[1]["id"]]

    assert ingestor.metadata.prune_events(time.time() - 3600) == 0  # younger than the retention
    assert ingestor.metadata.prune_events(time.time() + 1) >= 2
    kinds = [e["kind"] for e in ingestor.metadata.events(run_pk=pk)]
    assert "metrics_applied" not in kinds and "run_created" in kinds


def test_summary_values_read_back_as_written(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    """A float stays a float (SQLite's NUMERIC affinity would make 1.0 the integer 1), a 62-bit
    int stays exact, JSON null is a value, NaN comes back."""
    j = journal(*project, "types")
    ingestor.apply(*project, "types", j.batch([
        j.start(), j.log({"f": 1.0, "nan": float("nan"), "s": "12"}),
        j.record(SummaryUpdate, update={"big": 2**62 + 1, "null": None, "nested": {"a": [1, 2.5]}})]))
    run = ingestor.metadata.get_run(*project, "types")
    assert run is not None
    summary = run["summary"]
    nan = summary.pop("nan")
    assert nan != nan
    assert summary == {"f": 1.0, "s": "12", "big": 2**62 + 1, "null": None, "nested": {"a": [1, 2.5]}, "_step": 0}
    assert type(summary["f"]) is float and type(summary["big"]) is int
