"""The metadata database split by concern: each concern's store implements its interface and
works on its own over the same database (what a service sees), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trackwell.store.metadata import (
    ConsoleStore,
    EventStore,
    IngestLogStore,
    MetadataStore,
    RunStore,
    StateStore,
)
from trackwell.store.metadata._ingest import SqlIngestLog
from trackwell.store.metadata._outputs import SqlConsoleStore, SqlEventStore
from trackwell.store.metadata._runs import SqlRunStore
from trackwell.store.metadata._states import SqlStateStore

CONCERNS: list[tuple[type, Any]] = [(SqlRunStore, RunStore), (SqlStateStore, StateStore),
                                    (SqlIngestLog, IngestLogStore), (SqlConsoleStore, ConsoleStore),
                                    (SqlEventStore, EventStore)]


@pytest.fixture
def opened(db_url: str) -> Iterator[dict[type, Any]]:
    stores = {impl: impl(db_url) for impl, _ in CONCERNS}
    yield stores
    for store in stores.values():
        store.close()


def test_concerns_work_apart_over_one_database(opened: dict[type, Any], project: tuple[str, str]) -> None:
    for impl, interface in CONCERNS:
        assert isinstance(opened[impl], interface) and issubclass(MetadataStore, impl), impl
    runs: RunStore = opened[SqlRunStore]
    states: StateStore = opened[SqlStateStore]
    log: IngestLogStore = opened[SqlIngestLog]
    console: ConsoleStore = opened[SqlConsoleStore]
    events: EventStore = opened[SqlEventStore]
    seen = events.events()
    before = seen[-1]["id"] if seen else 0
    pk = runs.ensure_run(*project, "a", name="first")
    assert runs.ensure_run(*project, "a") == pk  # idempotent
    assert runs.upsert_run(*project, "a", {"config": {"lr": 0.1}})["config"] == {"lr": 0.1}
    assert [r["id"] for r in runs.list_runs(*project)[0]] == ["a"]
    assert runs.lineage(*project, "a") == (pk, [(pk, None)]) and runs.forks_after(*project, "a", 0) == []
    assert states.mark_preempting(pk) == "preempting" and states.run_state(pk) == "preempting"
    states.stop_run(pk)
    states.stop_run(pk)  # again: harmless
    assert runs.get_run(*project, "a")["state"] == "killed"
    assert log.writers(pk) == {} and log.log_entries(pk) == [] and log.writer_mark(pk, "w") == 0
    assert console.console(pk) == ([], None)
    mine = [e["kind"] for e in events.events(before) if e["run_pk"] == pk]
    assert mine == ["run_created", "run_preempting", "run_killed"]
    assert len(events.events(before, limit=1)) == 1
