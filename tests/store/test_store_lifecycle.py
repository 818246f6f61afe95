"""Lifecycle at the store level: heartbeats, the reaper, stop, offline-resume offsets, rewind."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from trackwell.schema import Batch, Exit, Preempting, Skipped
from trackwell.server.ingest import Ingestor, InvalidBatch, ResumeConflict
from trackwell.server.services import Conflict


def test_heartbeat_reaper_and_recovery(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "r")
    ingestor.apply(*project, "r", j.batch([j.start(), j.log({"x": 1.0})]))
    pk = ingestor.metadata.run_pk(*project, "r")
    assert pk is not None
    assert pk not in ingestor.metadata.reap(time.time() - 60)  # heard from just now (others may be old)
    assert pk in ingestor.metadata.reap(time.time() + 1)  # (a shared PostgreSQL holds other runs too)
    assert ingestor.metadata.get_run(*project, "r")["state"] == "crashed"
    ack = ingestor.receive(*project, "r", Batch(writer=j.writer, records=[]))  # a heartbeat
    assert (ack.applied_seq, ack.state) == (2, "running")
    kinds = [e["kind"] for e in ingestor.metadata.events(run_pk=pk)]
    assert kinds[-2:] == ["run_crashed", "run_recovered"]
    assert ingestor.receive(*project, "nosuch", Batch(writer="w", records=[])).state is None


def test_killed_run_keeps_its_state_through_exit(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "r")
    ingestor.apply(*project, "r", j.batch([j.start()]))
    ingestor.services.lifecycle.stop(*project, "r")
    assert ingestor.receive(*project, "r", j.batch([j.log({"x": 1.0})])).state == "killed"
    ingestor.apply(*project, "r", j.batch([j.record(Preempting), j.record(Exit, exit_code=255, runtime=1.0)]))
    run = ingestor.metadata.get_run(*project, "r")
    assert (run["state"], run["exit_code"]) == ("killed", 255)
    ingestor.services.lifecycle.stop(*project, "r")  # again: harmless
    done = journal(*project, "done")
    ingestor.apply(*project, "done", done.batch([done.start(), done.record(Exit, exit_code=0, runtime=1.0)]))
    with pytest.raises(Conflict, match="already ended"):
        ingestor.services.lifecycle.stop(*project, "done")


def test_a_run_stopped_before_its_first_records_arrive_stays_stopped(
        ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    """init() claims the run online, the run is stopped (a sweep cancelled in its first second),
    then the process's first batch with its RunStart arrives: the stop wins, and the ack says so."""
    j = journal(*project, "early")
    ingestor.services.ingest.claim(*project, "early", j.writer)
    ingestor.services.lifecycle.stop(*project, "early")
    assert ingestor.receive(*project, "early", j.batch([j.start(), j.log({"x": 1.0})])).state == "killed"
    ingestor.apply(*project, "early", j.batch([j.record(Exit, exit_code=0, runtime=1.0)]))
    assert ingestor.metadata.get_run(*project, "early")["state"] == "killed"
    # the same for a run marked preempting (``mark_preempting()``'s out-of-band call) that early
    p = journal(*project, "early-preempt")
    ingestor.services.ingest.claim(*project, "early-preempt", p.writer)
    assert ingestor.services.lifecycle.preempting(*project, "early-preempt")["state"] == "preempting"
    assert ingestor.receive(*project, "early-preempt", p.batch([p.start()])).state == "preempting"
    # a later process resuming the stopped run runs it again
    again = journal(*project, "early")
    assert ingestor.receive(*project, "early", again.batch([again.start(resume="allow")])).state == "running"


def test_offline_resume_offsets_are_stored_and_replays_are_idempotent(
        ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    first = journal(*project, "r")
    ingestor.apply(*project, "r", first.batch([first.start()] + [first.log({"x": float(i), "_runtime": 10.0 + i})
                                                                 for i in range(5)]))
    ingestor.apply(*project, "r", first.batch([first.record(Exit, exit_code=0, runtime=15.0)]))
    second = journal(*project, "r")
    batch = second.batch([second.start(resume="must")] + [second.log({"x": 100.0, "_runtime": 1.0})])
    for _ in range(2):  # a replay is shifted the same way and applied once
        ingestor.apply(*project, "r", batch)
    ingestor.apply(*project, "r", second.batch([second.log({"x": 101.0, "_runtime": 2.0})]))
    pk = ingestor.metadata.run_pk(*project, "r") or 0
    rows = ingestor.metrics.scan(pk, None, None, 100)[0]
    assert [r["_step"] for r in rows] == list(range(7))
    assert [r["x"] for r in rows][5:] == [100.0, 101.0] and rows[6]["_runtime"] == 17.0
    assert ingestor.metadata.writers(pk)[second.writer].step_offset == 5  # decided once, kept with the writer
    assert ingestor.metadata.get_run(*project, "r")["state"] == "running"  # resumed


def test_offline_resume_conflicts(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    j = journal(*project, "r")
    with pytest.raises(ResumeConflict, match="does not exist"):
        ingestor.apply(*project, "r", j.batch([j.start(resume="must")]))
    assert ingestor.metadata.run_pk(*project, "r") is None
    first = journal(*project, "r")
    ingestor.apply(*project, "r", first.batch([first.start(), first.record(Exit, exit_code=0, runtime=1.0)]))
    other = journal(*project, "r")
    other_batch = other.batch([other.start(), other.record(Exit, exit_code=0, runtime=1.0)])
    ingestor.apply(*project, "r", other_batch)
    late = journal(*project, "r")
    with pytest.raises(ResumeConflict, match="already exists"):
        ingestor.apply(*project, "r", late.batch([late.start(resume="never")]))
    bad = journal(*project, "r")
    with pytest.raises(InvalidBatch, match="resume='maybe'"):
        ingestor.apply(*project, "r", bad.batch([bad.start(resume="maybe")]))


def test_rewind_rebuilds_summaries_and_keeps_pinned_keys(
        ingestor: Ingestor, project: tuple[str, str], journal: Any) -> None:
    from trackwell.schema import SummaryUpdate

    j = journal(*project, "r")
    ingestor.apply(*project, "r", j.batch([j.start(), j.record(SummaryUpdate, update={"note": "kept"})]
                                          + [j.log({"x": float(i), "late": 1.0} if i > 6 else {"x": float(i)})
                                             for i in range(10)]))
    info = ingestor.services.lifecycle.rewind(*project, "r", 4)
    assert (info["last_step"], info["next_step"]) == (4, 5)
    assert info["run"]["summary"] == {"note": "kept", "x": 4.0}
    pk = ingestor.metadata.run_pk(*project, "r") or 0
    assert ingestor.metadata.metric_summaries(pk)["x"]["count"] == 5
    with pytest.raises(ValueError, match="steps start at 0"):
        ingestor.services.lifecycle.rewind(*project, "r", -1)


def test_dead_letter_retries_take_their_writers_offsets(ingestor: Ingestor, project: tuple[str, str],
                                                        journal: Any) -> None:
    """Letters of an offline-resumed journal are resent under a derived writer: they used to land
    at unshifted steps (on top of the first process's history)."""
    first = journal(*project, "r")
    ingestor.apply(*project, "r", first.batch([first.start()] + [first.log({"x": float(i)}) for i in range(5)]
                                              + [first.record(Exit, exit_code=0, runtime=5.0)]))
    second = journal(*project, "r")
    start, kept, refused, last = second.start(resume="allow"), second.log({"x": 100.0}), \
        second.log({"x": 101.0}), second.log({"x": 102.0})
    skipped = Skipped(seq=refused.seq, ts=refused.ts, reason="dead-lettered")
    ingestor.apply(*project, "r", second.batch([start, kept, skipped, last]))
    letters = journal(*project, "r", writer="d" * 32)
    letter = msgspec.structs.replace(refused, seq=1)
    letters.seq = 1
    ingestor.apply(*project, "r", Batch(writer=letters.writer, records=[letter], parent=second.writer))
    pk = ingestor.metadata.run_pk(*project, "r") or 0
    got = {r["_step"]: r["x"] for r in ingestor.metrics.scan(pk, None, None, 100)[0]}
    assert got == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 100.0, 6: 101.0, 7: 102.0}
    with pytest.raises(InvalidBatch, match="has written nothing"):
        ingestor.apply(*project, "r", Batch(writer="e" * 32, records=[letter], parent="f" * 32))


def test_a_long_fork_chain_reads_through_every_ancestor(ingestor: Ingestor, project: tuple[str, str],
                                                        journal: Any) -> None:
    """Forks of forks, deeper than the metric store's OR form (the join path), each branching
    lower: every fork reads its ancestors up to the lowest branch step, then its own rows."""
    j = journal(*project, "f0")
    ingestor.apply(*project, "f0", j.batch([j.start()] + [j.log({"x": float(i)}) for i in range(40)]))
    source = "f0"
    for n in range(1, 13):
        ingestor.services.lifecycle.fork(*project, f"f{n}", source, 40 - 2 * n, {})
        source = f"f{n}"
    child = journal(*project, "f12")
    child.step = 17
    ingestor.apply(*project, "f12", child.batch([child.start(), child.log({"x": 1000.0})]))
    pk, segments = ingestor.metadata.lineage(*project, "f12") or (0, [])
    assert len(segments) == 13 and segments[-1][1] == 16  # f0, read up to the lowest branch step
    rows = ingestor.metrics.scan(segments, None, None, 100)[0]
    assert [r["x"] for r in rows] == [float(i) for i in range(17)] + [1000.0]
    assert ingestor.services.lifecycle.resume_info(*project, "f12")["next_step"] == 18
