"""Through a real fault-injecting proxy, for each fault and for seeded random mixes of them: the
server's history equals what the client logged, exactly once, and every attempt of a request
carries one retry id that the server's log shows."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from delivery_helpers import assert_exactly_once
from fault_proxy import FaultProxy

import trackwell
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.deadletter import DeadLetters
from trackwell.sdk.journal import synced_path
from trackwell.sdk.uploader import deliver, retry_dead_letters
from trackwell.transport import Client

RETRIED = ("500", "502", "503", "429", "reset", "stall", "drop_response")
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
    with Client(url) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return retry_dead_letters(journal, client).sent


def _server_log(server: Any, settle: float = 0.3, timeout: float = 10.0) -> str:
    """The server log once it has stopped growing: the last request's line is written after its
    response, so wait for quiet instead of guessing a delay."""
    deadline = time.monotonic() + timeout
    text = str(server.log())
    while time.monotonic() < deadline:
        time.sleep(settle)
        newer = str(server.log())
        if newer == text:
            break
        text = newer
    return text


@pytest.mark.parametrize("fault", RETRIED + REFUSED)
def test_each_fault(server: Any, proxy: FaultProxy, tmp_path: Path, fast_retries: None, fault: str) -> None:
    proxy.queue(fault)
    run = _log_run(tmp_path, proxy.url, f"fault-{fault}", rows=300, chunk=300, pause=0)
    journal = run.journal_path()
    hit = next(s for s in proxy.seen if "/records" in s.path)
    assert hit.fault == fault and hit.retry_id
    attempts = [s for s in proxy.seen if s.retry_id == hit.retry_id]
    log = _server_log(server)
    if fault in RETRIED:  # retried under the same id; the attempt that got through is in the log
        assert len(attempts) == 2 and attempts[1].fault == "ok"
        expected_in_log = 2 if fault == "drop_response" else 1  # applied, then answered from the mark
        assert log.count(f"retry-id={hit.retry_id}") == expected_in_log
        assert not DeadLetters(journal).letters()
    else:  # refused for what it holds: never retried as is; halves (or a dead letter) follow
        assert len(attempts) == 1 and f"retry-id={hit.retry_id}" not in log
        assert len(proxy.seen) > 1
    _retry_dead_letters(journal, server.url)
    assert_exactly_once(server.url, journal)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fault_mixes(server: Any, tmp_path: Path, fast_retries: None, seed: int) -> None:
    mix = {"ok": 6, "500": 1, "502": 1, "503": 1, "429": 1, "413": 1, "422": 1, "reset": 1,
           "stall": 0.3, "drop_response": 2}
    proxy = FaultProxy(server.url, mix=mix, seed=seed, retry_after="0", stall_seconds=1.5)
    try:
        run = _log_run(tmp_path, proxy.url, f"mix-{seed}", rows=3000, chunk=25, pause=0.02)
    finally:
        proxy.close()
    journal = run.journal_path()
    faults = {s.fault for s in proxy.seen}
    assert len(faults) >= 5, f"seed {seed} exercised too few faults: {faults}"
    log = _server_log(server)
    forwarded = {s.retry_id for s in proxy.seen if s.fault in ("ok", "drop_response")}
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
        started = time.monotonic()
        with pytest.warns(TrackwellWarning, match="trackwell sync"):
            run.finish()
        assert time.monotonic() - started < 3.0  # liveness, not speed: a hang would last the 5 s stall
    finally:
        proxy.close()
    journal = run.journal_path()
    assert not synced_path(journal).exists()
    with Client(server.url) as client:
        deliver(journal, client)
    assert_exactly_once(server.url, journal)
