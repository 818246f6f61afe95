"""The pieces of delivery on their own: the breaker's schedule, batch halving, the dead-letter file."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackwell.schema import History, Skipped
from trackwell.sdk.breaker import CircuitBreaker
from trackwell.sdk.deadletter import DeadLetters, dead_writer, largest_key
from trackwell.transport import BatchBudget, ServerError, send_halving


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_probes_at_growing_intervals_up_to_the_max_and_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, initial_interval=1.0, max_interval=8.0, clock=clock, rng=lambda: 1.0)
    assert not breaker.open and breaker.wait_time() == 0
    breaker.failure()  # below the threshold: backs off, but requests still get full retries
    assert not breaker.open and breaker.wait_time() == 1.0
    waits = []
    for _ in range(6):
        breaker.failure()
        waits.append(breaker.wait_time())
    assert breaker.open and breaker.opened == 1
    assert waits == [2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    clock.now += 8.0
    assert breaker.wait_time() == 0  # a probe is due
    breaker.success()
    assert not breaker.open and breaker.failures == 0 and breaker.wait_time() == 0


def test_breaker_jitter_stays_within_half_to_full_interval() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, initial_interval=4.0, max_interval=60.0, clock=clock, rng=lambda: 0.0)
    breaker.failure()
    assert breaker.wait_time() == 2.0


def test_breaker_reads_its_knobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKWELL_BREAKER_THRESHOLD", "4")
    monkeypatch.setenv("TRACKWELL_RETRY_MAX_INTERVAL", "7")
    breaker = CircuitBreaker()
    assert (breaker.threshold, breaker.max_interval, breaker.initial_interval) == (4, 7.0, 1.0)


def test_halving_pins_refusals_on_single_items_and_learns_the_limit() -> None:
    sent: list[list[int]] = []
    refused: list[int] = []
    budget = BatchBudget(max_bytes=1_000_000)

    def send(items: object) -> None:
        batch = list(items)  # type: ignore[call-overload]
        if 7 in batch and len(batch) > 0:
            raise ServerError(413, "too large", {"max_request_bytes": 64 * 1024})
        sent.append(batch)

    send_halving(list(range(10)), send, lambda item, exc: refused.append(item), budget)
    assert refused == [7]
    assert sorted(i for batch in sent for i in batch) == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    assert budget.max_bytes == 64 * 1024 - 1024


def test_halving_lets_other_errors_through() -> None:
    def send(items: object) -> None:
        raise ServerError(503, "busy")

    with pytest.raises(ServerError):
        send_halving([1, 2], send, lambda item, exc: None)


def test_budget_counts_items_and_bytes() -> None:
    budget = BatchBudget(max_bytes=100, max_items=3)
    assert not budget.full(0, 0, 1000)  # an empty batch always takes one item, however large
    assert budget.full(1, 60, 41) and not budget.full(1, 60, 40)
    assert budget.full(3, 3, 1)


def test_dead_letters_survive_a_torn_tail_and_name_the_big_key(tmp_path: Path) -> None:
    journal = tmp_path / "run-x.twj"
    dead = DeadLetters(journal)
    big = History(seq=5, ts=1.0, step=4, runtime=0.0, data={"small": 1.0, "blob": "z" * 5000})
    dead.add("w1", big, "too large")
    with open(dead.path, "ab") as f:
        f.write(b"\x10\x00\x00\x00garbage")  # a frame torn by a crash
    again = DeadLetters(journal)
    assert again.seqs("w1") == {5}
    again.add("w1", Skipped(seq=9, ts=2.0, reason="r"), "invalid")
    letters = DeadLetters(journal).letters()
    assert [(ltr.seq, ltr.key) for ltr in letters] == [(5, "blob"), (9, "<Skipped record>")]
    assert letters[0].decode() == big and letters[0].size > 5000
    assert largest_key(big) == "blob"
    assert dead_writer("w1") == dead_writer("w1") != dead_writer("w2")
