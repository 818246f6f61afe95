"""Editing and deleting runs in the stores, on SQLite and PostgreSQL: edits change only what they
name and pin summary keys; a deletion removes the run from both stores, leaves a tombstone that
refuses the id afterwards (creating it, accepting into it by a cached pk), and no pk is reused."""

from __future__ import annotations

import pytest

from trackwell.schema import Batch
from trackwell.server.ingest import Ingestor
from trackwell.store.metadata import RunDeleted


def test_update_changes_what_it_names_and_pins_the_summary(ingestor: Ingestor, project, journal) -> None:
    entity, name = project
    j = journal(entity, name, "r1")
    ingestor.apply(entity, name, "r1", j.batch([j.start(config={"a": 1, "b": 2}, tags=["x"]),
                                                j.log({"loss": 3.0}), j.log({"loss": 1.0})]))
    store = ingestor.metadata
    assert store.update_run(entity, name, "r1", {"notes": "n", "tags": ["y"]}, config={"a": 5}, config_remove=["b"],
                            summary={"loss": 9.0, "best": 1}, summary_remove=["_step"], actor="me")
    assert not store.update_run(entity, name, "nope", {"notes": "n"})
    run = store.get_run(entity, name, "r1")
    assert run is not None
    assert (run["notes"], run["tags"], run["config"]) == ("n", ["y"], {"a": 5})
    assert run["summary"] == {"loss": 9.0, "best": 1}
    assert store.metric_summaries(store.run_pk(entity, name, "r1"))["loss"]["min"] == 1.0  # statistics kept
    ingestor.apply(entity, name, "r1", j.batch([j.log({"loss": 0.5})]))
    assert store.get_run(entity, name, "r1")["summary"]["loss"] == 9.0  # pinned
    with pytest.raises(ValueError, match="state"):
        store.update_run(entity, name, "r1", {"state": "finished"})


def test_delete_leaves_a_tombstone_and_never_reuses_the_pk(ingestor: Ingestor, project, journal) -> None:
    entity, name = project
    pks = []
    for run_id in ("a", "b"):
        j = journal(entity, name, run_id)
        ingestor.apply(entity, name, run_id, j.batch([j.start(), *(j.log({"x": float(i)}) for i in range(50))]))
        pks.append(ingestor.metadata.run_pk(entity, name, run_id))
    store, metrics = ingestor.metadata, ingestor.metrics
    cached = j  # run "b"'s journal: its writer goes on after the deletion

    result = ingestor.services.edits.delete(entity, name, "b", actor="me")
    assert result["deleted"] and not result["already_deleted"] and result["points_removed"] >= 50
    assert store.get_run(entity, name, "b") is None and store.run_pk(entity, name, "b") is None
    assert metrics.keys(pks[1]) == [] and metrics.writers(pks[1]) == []
    assert len(metrics.sample(pks[0], None, 1000)) == 50  # the other run is untouched
    assert ingestor.services.edits.delete(entity, name, "b")["already_deleted"]

    # its process sends on: the ingest service still has its pk cached
    with pytest.raises(RunDeleted, match="was deleted by me"):
        ingestor.apply(entity, name, "b", Batch(writer=cached.writer, records=[cached.log({"x": 1.0})]))
    # a new writer, a PUT: the id is not created again
    fresh = journal(entity, name, "b")
    with pytest.raises(RunDeleted):
        ingestor.apply(entity, name, "b", fresh.batch([fresh.start()]))
    with pytest.raises(RunDeleted):
        store.upsert_run(entity, name, "b", {"notes": "again"})
    assert store.run_pk(entity, name, "b") is None

    # the next run's pk is past the deleted one (SQLite would reuse the highest)
    j = journal(entity, name, "c")
    ingestor.apply(entity, name, "c", j.batch([j.start(), j.log({"x": 1.0})]))
    assert store.run_pk(entity, name, "c") > pks[1]
    # a staged append for the deleted pk (the catch-up stages outside the run's lock) stores nothing
    from trackwell.store.metrics import PointBatch

    assert metrics.append(pks[1], "late", 1, PointBatch.empty(), 0) is False
