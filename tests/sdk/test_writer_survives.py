"""The writer thread outlives any one bad call, and finish() never claims success over a loss
(issue 7, finding 6: log(step=2**64) killed the writer and everything after was silently lost)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import get_run, history, journal_records, scan_rows, user_data

import trackwell
from trackwell.schema import ConfigUpdate, Exit
from trackwell.sdk import TrackwellWarning


@pytest.fixture
def online_run(live_server: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    runs: list[Any] = []

    def start() -> Any:
        run = trackwell.init(project="survive", dir=tmp_path, reinit=True,
                             settings={"base_url": live_server.url, "quiet": True, "console": "off"})
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish(quiet=True)


def test_step_past_64_bits_is_refused_and_everything_else_arrives(online_run: Callable[..., Any],
                                                                   live_server: Any) -> None:
    run = online_run()
    run.log({"a": 0})
    with pytest.raises(ValueError, match=r"log\(step=18446744073709551616\).*2\*\*62"):
        run.log({"a": 1}, step=2**64)
    with pytest.raises(ValueError, match="nothing was logged"):
        run.log({"a": 1}, step=2**63)
    run.log({"a": 2})
    run.summary["best"] = 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.finish()
    assert not [str(w.message) for w in caught if issubclass(w.category, TrackwellWarning)]
    assert [(r.step, user_data(r)) for r in history(run.journal_path())] == [(0, {"a": 0}), (1, {"a": 2})]
    assert [(r["_step"], r["a"]) for r in scan_rows(live_server.url, live_server.entity, "survive", run.id)] == [
        (0, 0), (1, 2)]
    server_run = get_run(live_server.url, live_server.entity, "survive", run.id)
    assert (server_run["state"], server_run["summary"]["best"]) == ("finished", 2)


def test_last_step_is_the_servers_limit(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    run.log({"a": 1}, step=2**62, commit=True)
    with pytest.raises(ValueError, match="cannot go past step"):
        run.log({"a": 2})  # the next automatic step would be past 2**62, which the server refuses
    run.finish()
    assert [r.step for r in history(run.journal_path())] == [2**62]


def test_an_int_past_64_bits_is_recorded_as_a_float_and_the_rows_around_it_arrive(
        offline_run: Callable[..., Any]) -> None:
    """msgpack stops at 64 bits: the rows written with it fall back to records one by one, and
    that one row is repaired."""
    run = offline_run()
    for i in range(5):
        run.log({"a": i, "big": 2**70 if i == 2 else i})
    run.finish()
    assert [user_data(r) for r in history(run.journal_path())] == [
        {"a": i, "big": float(2**70) if i == 2 else i} for i in range(5)]
    assert [r.seq for r in journal_records(run.journal_path())] == list(range(1, 8))


def test_lone_surrogates_are_repaired_not_fatal(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    with pytest.warns(TrackwellWarning, match="lone surrogates"):
        run.log({"text": "bad \ud800 byte", "a": 1})
        run.config["path"] = "/data/\udcff"
        run.log({"a": 2})
        run.finish()
    records = journal_records(run.journal_path())
    assert [user_data(r) for r in history(run.journal_path())] == [{"text": "bad ? byte", "a": 1}, {"a": 2}]
    assert [r.data for r in records if isinstance(r, ConfigUpdate)] == [{"path": "/data/?"}]
    assert isinstance(records[-1], Exit)


def test_an_exit_code_past_32_bits_is_recorded_as_a_failure(offline_run: Callable[..., Any],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """An exit code msgpack cannot hold (or the server's 32-bit column refuses) used to lose the
    Exit record, so the run never ended; it is recorded as 1."""
    run = offline_run(settings={"quiet": False})
    run.log({"a": 1})
    run.finish(exit_code=2**64)
    records = journal_records(run.journal_path())
    assert isinstance(records[-1], Exit) and records[-1].exit_code == 1
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
