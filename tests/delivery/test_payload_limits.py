"""The server's body limit (413 with the limit), batches split below it, and records the server
refuses (too large: 413; invalid: 422) dead-lettered, then retried by `trackwell sync`."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from delivery_helpers import assert_exactly_once, logged, wait_for
from servers import get_run, http, scan_rows, start_server

import trackwell
from trackwell.schema import Batch, DefineMetric, History, RunStart, encode
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.deadletter import DeadLetters, dead_path
from trackwell.sdk.delivery import deliver, retry_dead_letters
from trackwell.sdk.journal import JournalHeader, JournalWriter, read_ack, synced_path
from trackwell.sdk.sinks import HttpSink

LIMIT = 64 * 1024


def _sync(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def _online(tmp_path: Path, url: str, project: str) -> Any:
    return trackwell.init(project=project, dir=tmp_path, reinit=True,
                          settings={"base_url": url, "quiet": True, "console": "off", "finish_timeout": 30})


@pytest.fixture
def small_server(tmp_path: Path) -> Any:
    live = start_server(tmp_path / "small-server", "--max-request-bytes", str(LIMIT))
    yield live
    live.stop()


def test_a_body_over_the_limit_is_answered_413_with_the_limit(small_server: Any) -> None:
    url = f"{small_server.url}/api/v1/runs/default/limits/r1/records"
    rid = uuid.uuid4().hex
    r = http.post(url, content=b"x" * (LIMIT + 1), headers={"X-Trackwell-Retry-Id": rid})
    assert r.status_code == 413
    assert r.json()["max_request_bytes"] == LIMIT and str(LIMIT) in r.json()["detail"]

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"y" * 8192

    assert http.post(url, content=chunks()).status_code == 413
    assert http.post(url, content=b"\x80").status_code == 422  # under the limit: reaches the app
    # a request's log line is written after its response
    wait_for(lambda: "POST /api/v1/runs/default/limits/r1/records 413" in small_server.log()
             and f"retry-id={rid}" in small_server.log(), "the 413s in the server log", timeout=10)


def test_batches_are_split_below_the_limit_the_server_names(small_server: Any, tmp_path: Path,
                                                            fast_retries: None) -> None:
    run = _online(tmp_path, small_server.url, "split")
    for i in range(400):  # ~400 KiB in all, each row ~1 KiB: several batches under 64 KiB
        run.log({"x": float(i), "i": i, "s": f"{i:04d}" + "p" * 1000})
    run.finish()
    journal = run.journal_path()
    assert synced_path(journal).exists() and not dead_path(journal).exists()
    assert_exactly_once(small_server.url, journal, keys=("x", "i", "s"))
    assert " 413 " in small_server.log()  # the first batch was too large, then halves went through


def test_an_oversized_record_is_dead_lettered_then_retried_after_raising_the_limit(
        small_server: Any, tmp_path: Path, fast_retries: None) -> None:
    run = _online(tmp_path / "client", small_server.url, "dead")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(50):
            row: dict[str, Any] = {"x": float(i), "i": i}
            if i in (20, 30):
                row["blob"] = "z" * (LIMIT + 10_000)
            run.log(row)
        run.finish()
    journal = run.journal_path()
    ours = [str(w.message) for w in caught if issubclass(w.category, TrackwellWarning)]
    assert len([m for m in ours if "key 'blob'" in m]) == 1, ours  # warned once, naming key and size
    assert "75" in ours[0] and "bytes" in ours[0] and "--retry-dead-letters" in ours[0]
    letters = DeadLetters(journal).letters()
    assert sorted(h.step for h in (ltr.decode() for ltr in letters) if isinstance(h, History)) == [20, 30]
    assert synced_path(journal).exists()  # every seq acknowledged: two as placeholders
    path = f"{small_server.entity}/dead/{run.id}"
    assert [r["_step"] for r in scan_rows(small_server.url, path)] == [s for s in range(50) if s not in (20, 30)]

    out = _sync(tmp_path / "client", "--base-url", small_server.url, "--retry-dead-letters")
    assert out.returncode == 1 and "refused again" in out.stdout, out.stdout + out.stderr
    assert len(DeadLetters(journal).letters()) == 4  # both appended anew, still not lost

    port = int(small_server.url.rsplit(":", 1)[1])
    small_server.stop()
    bigger = start_server(small_server.data_dir, port=port)  # default limit: 8 MiB
    try:
        out = _sync(tmp_path / "client", "--base-url", bigger.url, "--retry-dead-letters")
        assert out.returncode == 0 and "retried" in out.stdout, out.stdout + out.stderr
        assert_exactly_once(bigger.url, journal, keys=("x", "i", "blob"))
        again = _sync(tmp_path / "client", "--base-url", bigger.url, "--retry-dead-letters")
        assert again.returncode == 0 and "already synced" in again.stdout, again.stdout
        assert_exactly_once(bigger.url, journal, keys=("x", "i", "blob"))
    finally:
        bigger.stop()


def test_a_record_the_server_finds_invalid_is_set_aside_and_the_rest_delivered(
        small_server: Any, tmp_path: Path) -> None:
    journal = tmp_path / "run-inv.twj"
    writer = JournalWriter(journal, JournalHeader(version=1, writer=uuid.uuid4().hex, entity="default",
                                                  project="invalid", run_id="inv", created=0.0, mode="offline"))
    records: list[Any] = [RunStart(seq=1, ts=0.0, entity="default", project="invalid", run_id="inv")]
    for i in range(30):
        records.append(History(seq=len(records) + 1, ts=0.0, step=i, runtime=0.0, data={"x": float(i), "i": i}))
        if i == 12:  # what an older or buggy client might write: the server answers 422
            records.append(DefineMetric(seq=len(records) + 1, ts=0.0, name="x", summary="median"))
    writer.append(records)
    writer.close()

    with HttpSink.connect(small_server.url) as sink, pytest.warns(TrackwellWarning, match="summary op 'median'"):
        result = deliver(journal, sink)
    assert result.complete and result.dead_lettered == 1 and read_ack(journal) == len(records)
    assert logged(journal) and [r["x"] for r in scan_rows(small_server.url, "default/invalid/inv")] == \
        [float(i) for i in range(30)]
    with HttpSink.connect(small_server.url) as sink, pytest.warns(TrackwellWarning, match="summary op 'median'"):
        again = retry_dead_letters(journal, sink)  # still invalid: kept, under a new position
        assert again.dead_lettered == 1 and again.acked == 1
        assert retry_dead_letters(journal, sink).acked == 2  # each retry is its own exactly-once
    assert [ltr.seq for ltr in DeadLetters(journal).letters()] == [15, 1, 2]
    assert_exactly_once(small_server.url, journal)


def test_a_hand_made_batch_cannot_bypass_the_limit(small_server: Any) -> None:
    big = Batch(writer="w", records=[History(seq=1, ts=0.0, step=0, runtime=0.0, data={"s": "q" * LIMIT})])
    r = http.post(f"{small_server.url}/api/v1/runs/default/limits/r2/records", content=encode(big),
                   headers={"Content-Type": "application/msgpack"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


def _nested(depth: int) -> dict[str, Any]:
    """A config the server refuses (422: nested deeper than its limit of 64)."""
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return deep


def test_a_refused_run_start_is_set_aside_and_the_rows_still_delivered(small_server: Any, tmp_path: Path) -> None:
    """The first record can be the one refused (config nested past the server's limit: 422): it
    is dead-lettered like any other, and the run's rows still reach the server."""
    run_id = uuid.uuid4().hex[:12]
    run = trackwell.init(project="refused-start", id=run_id, mode="offline", dir=tmp_path, reinit=True,
                         config={"deep": _nested(100)}, settings={"quiet": True, "console": "off"})
    for i in range(5):
        run.log({"x": float(i), "i": i})
    run.finish()
    out = _sync(tmp_path, "--base-url", small_server.url)
    assert not re.search(r"\b409\b", out.stdout), out.stdout  # a 409, not the digits in a hex run id
    letters = [ltr.decode() for ltr in DeadLetters(run.journal_path()).letters()]
    assert [type(r) for r in letters] == [RunStart]  # kept, with what made it invalid
    assert [r["i"] for r in scan_rows(small_server.url, f"default/refused-start/{run_id}")] == list(range(5))


def test_a_resumed_run_whose_run_start_is_refused_keeps_its_steps(small_server: Any, tmp_path: Path) -> None:
    """An online resume resolves its first step at init (the server's last step + 1); if its
    RunStart is then refused and set aside, its rows must still land at the steps it logged."""
    run_id = uuid.uuid4().hex[:12]
    settings = {"base_url": small_server.url, "quiet": True, "console": "off"}
    first = trackwell.init(project="refused-resume", id=run_id, dir=tmp_path, reinit=True, settings=settings)
    for i in range(6):
        first.log({"i": i})
    first.finish()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the dead-letter notice is expected
        second = trackwell.init(project="refused-resume", id=run_id, resume="allow", dir=tmp_path, reinit=True,
                                config={"deep": _nested(100)}, settings=settings)
        assert second.step == 6
        for i in range(6, 12):
            second.log({"i": i})
        second.finish()
    rows = scan_rows(small_server.url, f"{small_server.entity}/refused-resume/{run_id}")
    assert [(r["_step"], r["i"]) for r in rows] == [(i, i) for i in range(12)]


def test_a_run_start_retried_after_the_run_finished_leaves_it_finished(small_server: Any, tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex[:12]
    path = f"default/late-start/{run_id}"
    run = trackwell.init(project="late-start", id=run_id, mode="offline", dir=tmp_path, reinit=True,
                         config={"blob": "z" * (LIMIT + 10_000)}, settings={"quiet": True, "console": "off"})
    for i in range(5):
        run.log({"i": i})
    run.finish()
    out = _sync(tmp_path, "--base-url", small_server.url)  # the RunStart is too large: set aside
    assert "refused" in out.stdout and get_run(small_server.url, path)["state"] == "finished", out.stdout
    port = int(small_server.url.rsplit(":", 1)[1])
    small_server.stop()
    bigger = start_server(small_server.data_dir, port=port)  # default limit: 8 MiB
    try:
        out = _sync(tmp_path, "--base-url", bigger.url, "--retry-dead-letters")
        assert out.returncode == 0 and "retried" in out.stdout, out.stdout
        after = get_run(bigger.url, path)
        assert after["config"]["blob"] == "z" * (LIMIT + 10_000)
        assert (after["state"], after["exit_code"]) == ("finished", 0)
        assert [r["i"] for r in scan_rows(bigger.url, path)] == list(range(5))
    finally:
        bigger.stop()
