"""Through a real fault-injecting proxy, for each fault and for seeded random mixes of them: the
server's history equals what the client logged, exactly once, and every attempt of a request
carries one retry id that the server's log shows."""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from delivery_helpers import SdkProcess, assert_exactly_once, point_counts, wait_for
from fault_proxy import FaultProxy
from servers import scan_rows

import trackwell
from trackwell.schema import Exit, History, RunStart
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.deadletter import DeadLetters
from trackwell.sdk.delivery import deliver, retry_dead_letters
from trackwell.sdk.journal import JournalHeader, JournalWriter, synced_path
from trackwell.sdk.sinks import HttpSink
from trackwell.transport import BatchBudget

RETRIED = ("500", "502", "503", "429", "reset", "stall", "drop_response", "drop_response_late")
FORWARDED = ("ok", "drop_response", "drop_response_late")  # faults that reach the server
REFUSED = ("413", "422")


def _log_run(tmp_path: Path, url: str, project: str, rows: int, chunk: int, pause: float) -> Any:
    run = trackwell.init(project=project, dir=tmp_path, reinit=True,
                         settings={"base_url": url, "quiet": True, "console": "off", "finish_timeout": 60,
                                   "flush_interval": 0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "cannot upload yet" / dead-letter notices are expected here
        for i in range(rows):
            run.log({"x": i * 0.5, "i": i})
            if i % chunk == chunk - 1:
                time.sleep(pause)
        run.finish()
    assert synced_path(run.journal_path()).exists(), "finish() did not get everything acknowledged"
    return run


def _retry_dead_letters(journal: Path, url: str) -> int:
    """What `trackwell sync --retry-dead-letters` does, straight to the server (no proxy)."""
    if not DeadLetters(journal).letters():
        return 0
    with HttpSink.connect(url) as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return retry_dead_letters(journal, sink).sent


def _server_log(server: Any, until: Callable[[str], bool]) -> str:
    """The server log once ``until(log)`` holds: a request's line is written after its response."""
    wait_for(lambda: until(server.log()), "the requests' lines in the server log", timeout=10)
    return str(server.log())


@pytest.mark.parametrize("fault", RETRIED + REFUSED)
def test_each_fault(server: Any, proxy: FaultProxy, tmp_path: Path, fast_retries: None, fault: str) -> None:
    proxy.queue(fault)
    run = _log_run(tmp_path, proxy.url, f"fault-{fault}", rows=300, chunk=300, pause=0)
    journal = run.journal_path()
    hit = next(s for s in proxy.seen if "/records" in s.path)
    assert hit.fault == fault and hit.retry_id
    attempts = [s for s in proxy.seen if s.retry_id == hit.retry_id]
    tag = f"retry-id={hit.retry_id}"
    if fault in RETRIED:  # retried under the same id; the attempt that got through is in the log
        assert len(attempts) == 2 and attempts[1].fault == "ok"
        expected_in_log = 2 if fault in FORWARDED else 1  # applied, then answered from the mark
        assert _server_log(server, lambda log: log.count(tag) >= expected_in_log).count(tag) == expected_in_log
        assert not DeadLetters(journal).letters()
    else:  # refused for what it holds: never retried as is; halves (or a dead letter) follow
        assert len(attempts) == 1 and attempts[0].upstream_status is None  # the server never saw it
        assert tag not in server.log()
        assert len(proxy.seen) > 1
    _retry_dead_letters(journal, server.url)
    assert_exactly_once(server.url, journal)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fault_mixes(server: Any, tmp_path: Path, fast_retries: None, seed: int) -> None:
    mix = {"ok": 6, "500": 1, "502": 1, "503": 1, "429": 1, "413": 1, "422": 1, "reset": 1,
           "stall": 0.3, "drop_response": 2, "drop_response_late": 0.3}
    proxy = FaultProxy(server.url, mix=mix, seed=seed, retry_after="0", stall_seconds=1.5, drop_delay=1.5)
    try:
        run = _log_run(tmp_path, proxy.url, f"mix-{seed}", rows=3000, chunk=25, pause=0.02)
    finally:
        proxy.close()
    journal = run.journal_path()
    faults = {s.fault for s in proxy.seen}
    assert len(faults) >= 5, f"seed {seed} exercised too few faults: {faults}"
    forwarded = {s.retry_id for s in proxy.seen if s.fault in FORWARDED}
    log = _server_log(server, lambda text: all(f"retry-id={rid}" in text for rid in forwarded))
    assert forwarded and all(f"retry-id={rid}" in log for rid in forwarded)
    by_id: dict[str | None, list[str]] = {}
    for s in proxy.seen:
        by_id.setdefault(s.retry_id, []).append(s.fault)
    assert any(len(f) > 1 and f[-1] == "ok" for f in by_id.values())  # a retried request got through
    _retry_dead_letters(journal, server.url)
    assert_exactly_once(server.url, journal)


def test_an_outage_opens_the_breaker_and_probes_are_single_attempts(
        server: Any, proxy: FaultProxy, tmp_path: Path, fast_retries: None) -> None:
    proxy.queue(*["503"] * 12)
    run = _log_run(tmp_path, proxy.url, "breaker", rows=100, chunk=100, pause=0)
    records = [s for s in proxy.seen if "/records" in s.path]
    first = records[0].retry_id
    assert [s.retry_id for s in records[:3]] == [first] * 3  # the transport's attempts: one id
    probes = records[3:12]
    assert all(s.fault == "503" for s in probes)
    # while the breaker is open each probe is one attempt: no failure is retried by both layers
    assert len({s.retry_id for s in probes}) == len(probes) and first not in {s.retry_id for s in probes}
    assert records[12].fault == "ok"
    assert_exactly_once(server.url, run.journal_path())


def test_finish_does_not_hang_on_a_stalled_server_and_sync_delivers_the_rest(
        server: Any, tmp_path: Path, fast_retries: None) -> None:
    proxy = FaultProxy(server.url, mix={"stall": 1}, stall_seconds=5.0)  # every upload hangs
    try:
        run = trackwell.init(project="stalled", dir=tmp_path, reinit=True, settings={
            "base_url": proxy.url, "quiet": True, "console": "off", "finish_timeout": 1.0})
        for i in range(100):
            run.log({"x": i * 0.5, "i": i})
        with pytest.warns(TrackwellWarning, match="trackwell sync"):
            run.finish()
        # finish() gave up after its 1 s budget: the first upload is still hung in the proxy
        first = next(s for s in proxy.seen if s.fault == "stall")
        assert not first.handled.is_set()
    finally:
        proxy.close()
    journal = run.journal_path()
    assert not synced_path(journal).exists()
    with HttpSink.connect(server.url) as sink:
        deliver(journal, sink)
    assert_exactly_once(server.url, journal)


def _three_blocks(tmp_path: Path) -> Path:
    """An offline run's journal holding three blocks of 1,000 wide rows (one append each)."""
    run_id = uuid.uuid4().hex[:8]
    journal = tmp_path / f"run-{run_id}.twj"
    writer = JournalWriter(journal, JournalHeader(version=3, writer=uuid.uuid4().hex, entity="default",
                                                  project="late-drop", run_id=run_id, created=time.time(),
                                                  mode="offline"))
    started = time.time()
    writer.append([RunStart(seq=1, ts=started, entity="default", project="late-drop", run_id=run_id)])
    for chunk in range(3):
        rows = []
        for i in range(chunk * 1000, (chunk + 1) * 1000):
            ts = started + 1 + i * 1e-3
            rows.append(History(seq=i + 2, ts=ts, step=i, runtime=ts - started,
                                data={"x": i * 0.5, "i": i, **{f"w{k}": i + k for k in range(30)},
                                      "_runtime": ts - started, "_timestamp": ts}))
        writer.append(rows)
    writer.append([Exit(seq=3002, ts=started + 5, exit_code=0, runtime=5.0)])
    writer.close()
    return journal


def test_the_client_times_out_while_the_server_applies_and_the_retry_is_answered_from_the_mark(
        server: Any, tmp_path: Path) -> None:
    """``drop_response_late``: each of three wide 1000-row batches reaches the server whole only
    when the client, having timed out, retries it; the original is applied and its answer lost,
    the retry (right behind it) must be answered from the applied-seq mark, not applied again."""
    journal = _three_blocks(tmp_path)
    proxy = FaultProxy(server.url, drop_delay=30)
    proxy.queue(*["drop_response_late", "ok"] * 3)  # each retry goes through
    try:
        with HttpSink.connect(proxy.url, timeout=0.5, initial_wait=0.01, max_wait=0.05) as sink:
            result = deliver(journal, sink, budget=BatchBudget(max_items=1))  # a block per batch
        proxy.wait_forwarded()
    finally:
        proxy.close()
    assert result.complete
    late = proxy.faults_seen("drop_response_late")
    assert len(late) == 3
    for original in late:
        assert original.upstream_status == 200  # the server applied it; the client never heard
        retry = next(s for s in proxy.seen if s.retry_id == original.retry_id and s is not original)
        assert retry.fault == "ok" and retry.upstream_status == 200
        assert original.sent_at is not None and retry.sent_at is not None
        assert retry.sent_at >= original.sent_at  # the original was whole at the server first
        overlap = original.answered_at is not None and retry.sent_at < original.answered_at
        print(f"retry {original.retry_id} reached the server "
              f"{'while' if overlap else 'after'} the original was being applied")
    tags = [f"retry-id={s.retry_id}" for s in late]
    log = _server_log(server, lambda text: all(text.count(tag) >= 2 for tag in tags))
    assert all(log.count(tag) == 2 for tag in tags)
    assert_exactly_once(server.url, journal, keys=("x", "i", "w0", "w29"))


def test_a_batch_landing_after_its_client_was_killed_is_not_applied_twice(server: Any, tmp_path: Path) -> None:
    """The server applies a batch whose client is already dead (kill -9 while the request was in
    flight), so the journal's ack is stale: the next process resends an overlapping batch (the
    applied records and the ones journaled after them) and nothing lands twice."""
    proxy = FaultProxy(server.url, drop_delay=60)
    path = f"{server.entity}/orphan/{uuid.uuid4().hex[:12]}"
    first = SdkProcess(proxy.url, "orphan", path.rsplit("/", 1)[1], tmp_path)
    try:
        first.log([({"x": float(i), "i": i}, None, None) for i in range(100)])
        wait_for(lambda: len(scan_rows(server.url, path)) == 100, "the first rows on the server")
        proxy.queue("drop_response_late")
        first.log([({"x": float(i), "i": i}, None, None) for i in range(100, 600)])
        wait_for(lambda: bool(proxy.faults_seen("drop_response_late")), "the held upload")
        journal = next(tmp_path.rglob("run-*.twj"))
        size = journal.stat().st_size
        first.log([({"x": float(i), "i": i}, None, None) for i in range(600, 1100)])
        wait_for(lambda: journal.stat().st_size > size, "rows journaled behind the held upload")
        first.kill()
        proxy.release_held()
        proxy.wait_forwarded()
        assert proxy.faults_seen("drop_response_late")[0].upstream_status == 200  # applied, never acked
        second = SdkProcess(proxy.url, "orphan", path.rsplit("/", 1)[1], tmp_path)
        assert second.start_step >= 101  # the held batch at least, and what the first journaled after it
        second.log([({"x": -1.0, "i": -1}, None, None)])
        second.finish()
    finally:
        first.kill()
        proxy.close()
    rows = scan_rows(server.url, path)
    assert [r["_step"] for r in rows] == list(range(second.start_step + 1))
    assert [r["i"] for r in rows] == [*range(second.start_step), -1]
    assert point_counts(server.url, path)["i"] == second.start_step + 1  # once each, in both stores
