"""A log entry a store refuses although it passed validation is quarantined after a few tries:
kept with the error, the run's later records still applied. PostgreSQL refuses NUL in text,
which SQLite stores, so this runs there."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from trackwell.schema import Console, encode
from trackwell.server.ingest import Ingestor


def test_refused_entry_is_quarantined_and_the_run_goes_on(postgres_url: str, tmp_path: Path,
                                                          project: tuple[str, str], journal: Any) -> None:
    ing = Ingestor.open(postgres_url, tmp_path / "metrics.duckdb")
    try:
        j = journal(*project, "r")
        ing.apply(*project, "r", j.batch([j.start(), j.log({"x": 1.0})]))
        pk = ing.metadata.run_pk(*project, "r")
        assert pk is not None
        # A record that slipped past validation (written straight into the log, as a future
        # validation gap would let it): PostgreSQL refuses the NUL byte on every attempt.
        bad = Console(seq=3, ts=time.time(), stream="stdout", lines=["a\x00b"])
        with ing.metadata.accepting(pk) as acc:
            acc.append(j.writer, 3, 3, encode([bad]), time.time())
            acc.update_writer(j.writer, accepted_seq=3)
        j.seq = 3
        for _ in range(3):  # retried, then set aside
            ing.catch_up()
        ing.apply(*project, "r", j.batch([j.log({"x": 2.0}), j.record(Console, stream="stdout", lines=["fine"])]))
        run = ing.metadata.get_run(*project, "r")
        assert run is not None and run["summary"]["x"] == 2.0
        assert [line["text"] for line in ing.metadata.console(pk)[0]] == ["fine"]
        assert ing.metadata.log_entries(pk) == []
        events = [e for e in ing.metadata.events(run_pk=pk) if e["kind"] == "ingest_quarantined"]
        assert len(events) == 1 and events[0]["payload"]["first_seq"] == 3 and "metadata" == events[0]["payload"]["store"]
    finally:
        ing.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("postgres_url"))
