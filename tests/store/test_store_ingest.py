"""Exactly-once ingest into both stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import typing
from typing import Any

import numpy as np
import pytest

from trackwell.schema import (
    AnyRecord,
    Batch,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    Preempting,
    SummaryUpdate,
    encode,
)
from trackwell.server.ingest import Ingestor, InvalidBatch, SequenceGap
from trackwell.server.points import batch_stats, build_points
from trackwell.store.metadata._apply import APPLY


def _state(ing: Ingestor, entity: str, project: str, run_id: str) -> tuple:
    pk = ing.metadata.run_pk(entity, project, run_id)
    assert pk is not None
    rows = ing.metrics.scan(pk, None, None, 100_000)[0]
    console = ing.metadata.console(pk)[0]
    return rows, ing.metadata.metric_summaries(pk), ing.metadata.get_run(entity, project, run_id)["summary"], console


def test_apply_and_reapply_is_idempotent(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    batch = j.batch([j.start(config={"lr": 0.1}), *(j.log({"loss": 1.0 / (i + 1), "acc": i}) for i in range(50)),
                     j.record(Console, stream="stdout", lines=["epoch 1", "epoch 2"])])
    assert ingestor.apply(*project, "run1", batch) == 52
    before = _state(ingestor, *project, "run1")
    assert ingestor.apply(*project, "run1", batch) == 52  # a retry of the same batch
    tail = Batch(writer=j.writer, records=batch.records[40:])  # an overlapping resend
    assert ingestor.apply(*project, "run1", tail) == 52
    after = _state(ingestor, *project, "run1")
    assert before == after
    rows, metrics, summary, console = after
    assert len(rows) == 50 and rows[0] == {"_step": 0, "loss": 1.0, "acc": 0.0}
    assert metrics["loss"]["count"] == 50 and metrics["acc"]["count"] == 50
    assert summary == {"loss": 1.0 / 50, "acc": 49.0, "_step": 49}
    assert [line["text"] for line in console] == ["epoch 1", "epoch 2"]
    assert ingestor.metadata.get_run(*project, "run1")["config"] == {"lr": 0.1}


def test_crash_between_the_two_commits_heals_on_resend(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    first = j.batch([j.start(), *(j.log({"x": float(i)}) for i in range(10))])
    ingestor.apply(*project, "run1", first)
    second = j.batch([j.log({"x": float(i)}) for i in range(10, 20)] + [j.record(Exit, exit_code=0, runtime=2.0)])
    # Simulate the process dying after the metric store committed: only DuckDB has batch two.
    pk = ingestor.metadata.run_pk(*project, "run1")
    assert pk is not None
    assert ingestor.metrics.append(pk, j.writer, second.records[-1].seq, build_points(second.records), 11)
    assert ingestor.metadata.writer_mark(pk, j.writer) == 11
    # The client resends batch two (it never got an ack).
    assert ingestor.apply(*project, "run1", second) == 22
    rows, metrics, summary, _ = _state(ingestor, *project, "run1")
    assert [r["x"] for r in rows] == [float(i) for i in range(20)]
    assert metrics["x"] == {"last": 19.0, "last_step": 19, "min": 0.0, "max": 19.0, "count": 20, "mean": 9.5}
    assert summary == {"x": 19.0, "_step": 19}
    assert ingestor.metadata.get_run(*project, "run1")["state"] == "finished"
    kinds = [e["kind"] for e in ingestor.metadata.events(run_pk=pk)]
    assert kinds.count("metrics_applied") == 2 and kinds.count("run_finished") == 1


def test_sequence_gap_reports_applied_seq(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    ingestor.apply(*project, "run1", j.batch([j.start(), j.log({"a": 1})]))
    j.log({"a": 2})  # seq 3 is never sent
    with pytest.raises(SequenceGap) as info:
        ingestor.apply(*project, "run1", j.batch([j.log({"a": 3})]))
    assert info.value.applied_seq == 2
    assert "resend from seq 3" in str(info.value)
    with pytest.raises(SequenceGap) as info:  # an unknown run only accepts a journal from seq 1
        ingestor.apply(*project, "other", Batch(writer="w", records=[j.log({"a": 1})]))
    assert info.value.applied_seq == 0
    assert ingestor.metadata.get_run(*project, "other") is None


def test_non_consecutive_batch_is_rejected(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    start, a = j.start(), j.log({"a": 1})
    j.log({"a": 2})
    b = j.log({"a": 3})
    with pytest.raises(InvalidBatch, match=r"records\[2\].seq is 4, expected 3"):
        ingestor.apply(*project, "run1", j.batch([start, a, b]))
    with pytest.raises(InvalidBatch, match="posted to"):
        ingestor.apply(*project, "elsewhere", j.batch([start]))
    with pytest.raises(InvalidBatch, match="Expected"):
        ingestor.apply_bytes(*project, "run1", b"\x92\x01\x02")
    assert ingestor.apply_bytes(*project, "run1", encode(j.batch([start, a]))) == 2
    with pytest.raises(InvalidBatch, match="summary op 'median'"):
        ingestor.apply(*project, "run1", j.batch([j.record(DefineMetric, name="loss", summary="median")]))


def test_summaries_follow_modes_and_pins(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    losses = [3.0, 1.0, 2.0, 5.0]
    records = [j.start(), j.record(DefineMetric, name="loss", summary="min"),
               j.record(DefineMetric, name="val/*", summary="max"),
               j.record(DefineMetric, name="acc", summary="mean"),
               j.record(DefineMetric, name="hidden", summary="none"),
               j.record(DefineMetric, name="score", summary="first,last,best", goal="max")]
    records += [j.log({"loss": v, "val/acc": v, "acc": v, "hidden": v, "lr": v, "phase": "warm", "score": v})
                for v in losses[:2]]
    ingestor.apply(*project, "run1", j.batch(records))
    # A second batch continues the same statistics.
    more = [j.log({"loss": v, "val/acc": v, "acc": v, "hidden": v, "lr": v, "phase": "main", "score": v})
            for v in losses[2:]]
    more.append(j.record(SummaryUpdate, update={"lr": 0.5, "best": "yes"}))
    more.append(j.log({"lr": 9.0}))
    more.append(j.record(ConfigUpdate, data={"batch_size": 32}))
    ingestor.apply(*project, "run1", j.batch(more))
    run = ingestor.metadata.get_run(*project, "run1")
    # W&B's shapes: one entry per op; "first" survives the second batch (it is not a stored statistic)
    assert run["summary"] == {"loss": {"min": 1.0}, "val/acc": {"max": 5.0}, "acc": {"mean": np.mean(losses)},
                              "score": {"first": 3.0, "last": 5.0, "best": 5.0}, "lr": 0.5, "best": "yes",
                              "_step": 4, "phase": "main"}
    assert run["config"] == {"batch_size": 32}
    pk = ingestor.metadata.run_pk(*project, "run1")
    metrics = ingestor.metadata.metric_summaries(pk)
    assert metrics["loss"] == {"last": 5.0, "last_step": 3, "min": 1.0, "max": 5.0, "count": 4, "mean": 2.75}
    assert metrics["lr"]["last"] == 9.0 and "phase" not in metrics
    # A removed key stays removed (as in the SDK's own view): later history does not bring it back.
    ingestor.apply(*project, "run1", j.batch([j.record(SummaryUpdate, remove=["lr", "best"]), j.log({"lr": 7.0})]))
    summary = ingestor.metadata.get_run(*project, "run1")["summary"]
    assert "lr" not in summary and "best" not in summary
    # Assigning it again brings it back, pinned.
    ingestor.apply(*project, "run1", j.batch([j.record(SummaryUpdate, update={"lr": 1.5}), j.log({"lr": 8.0})]))
    assert ingestor.metadata.get_run(*project, "run1")["summary"]["lr"] == 1.5


def test_run_lifecycle_and_events(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    ingestor.apply(*project, "run1", j.batch([j.start(group="g", tags=["x"], host="box", program="train.py")]))
    run = ingestor.metadata.get_run(*project, "run1")
    assert run["state"] == "running" and run["group"] == "g" and run["tags"] == ["x"] and run["host"] == "box"
    assert run["name"].count("-") == 2 and run["name"].endswith("-1")  # generated adjective-noun-N
    ingestor.apply(*project, "run1", j.batch([j.record(Preempting)]))
    assert ingestor.metadata.get_run(*project, "run1")["state"] == "preempting"
    ingestor.apply(*project, "run1", j.batch([j.record(Exit, exit_code=3, runtime=12.5)]))
    run = ingestor.metadata.get_run(*project, "run1")
    assert (run["state"], run["exit_code"], run["runtime"]) == ("preempted", 3, 12.5)  # preempting + non-zero
    pk = ingestor.metadata.run_pk(*project, "run1")
    kinds = [e["kind"] for e in ingestor.metadata.events(run_pk=pk)]
    assert kinds == ["run_created", "run_preempting", "run_preempted"]
    second = journal(*project, "run2")
    ingestor.apply(*project, "run2", second.batch([second.start()]))
    assert ingestor.metadata.get_run(*project, "run2")["name"].endswith("-2")


def test_non_finite_values_round_trip(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "run1")
    values = [math.nan, math.inf, -math.inf, 1.5]
    records = [j.start(config={"eps": math.inf})] + [j.log({"v": v, "flag": i % 2 == 0, "note": None})
                                                     for i, v in enumerate(values)]
    records.append(j.record(SummaryUpdate, update={"pinned_nan": math.nan}))
    ingestor.apply(*project, "run1", j.batch(records))
    pk = ingestor.metadata.run_pk(*project, "run1")
    rows = ingestor.metrics.scan(pk, None, None, 100)[0]
    got = [r["v"] for r in rows]
    assert math.isnan(got[0]) and got[1:] == values[1:]
    assert [r["flag"] for r in rows] == [True, False, True, False] and all(r["note"] is None for r in rows)
    run = ingestor.metadata.get_run(*project, "run1")
    assert run["config"]["eps"] == math.inf and math.isnan(run["summary"]["pinned_nan"])
    metrics = ingestor.metadata.metric_summaries(pk)["v"]
    assert metrics["min"] == -math.inf and metrics["max"] == math.inf and metrics["last"] == 1.5


def test_batch_stats_match_numpy(journal: Any) -> None:
    rng = np.random.default_rng(0)
    j = journal("e", "p", "r")
    records = [j.log({f"k{k}": float(v) for k, v in enumerate(rng.normal(size=5)) if rng.random() > 0.3})
               for _ in range(200)]
    stats, others = batch_stats(build_points(records))
    assert not others
    for key, s in stats.items():
        series = [(r.step, r.data[key]) for r in records if key in r.data]
        vals = np.array([v for _, v in series])
        assert (s.count, s.min, s.max, s.last, s.last_step) == (len(vals), vals.min(), vals.max(), vals[-1], series[-1][0])
        assert s.sum == pytest.approx(vals.sum())


def test_every_record_type_has_a_handler() -> None:
    """Record application dispatches on the record's type: a new record type needs its handler."""
    assert set(APPLY) == set(typing.get_args(AnyRecord))
