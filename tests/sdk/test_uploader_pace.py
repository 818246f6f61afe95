"""The uploader's pace: the writer's wake-ups are coalesced into at most one batch per send
interval unless a full batch waits; a busy server's 429 is waited out (its Retry-After) without
counting as an outage, and its ``Ack.flush_interval`` sets a slower pace while it lasts. Delivery
stays exactly once throughout. The sink delivers into a real ``Ingestor`` on SQLite and DuckDB."""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from trackwell.schema import Ack, Batch, History, RunStart
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.journal import JournalHeader, JournalWriter
from trackwell.sdk.sinks import InProcessSink, Target
from trackwell.sdk.uploader import Uploader
from trackwell.server.ingest import Ingestor
from trackwell.transport._client import TooManyRequests


@pytest.fixture
def ingestor(tmp_path: Path) -> Iterator[Ingestor]:
    ing = Ingestor.open(f"sqlite:///{tmp_path / 'trackwell.db'}", tmp_path / "metrics.duckdb")
    yield ing
    ing.close()


class CountingSink(InProcessSink):
    """Counts the batches that carry records; refuses the first ``busy`` of them with 429, and
    answers with ``hint`` as the flush interval."""

    def __init__(self, ingestor: Ingestor, busy: int = 0, retry_after: str = "0.1") -> None:
        super().__init__(ingestor)
        self.sent: list[int] = []  # records per batch that went through
        self.refused: list[bool] = []  # the ``retry`` flag of each batch answered 429
        self.busy, self.retry_after = busy, retry_after
        self.hint: float | None = None

    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        if batch.records and self.busy:
            self.busy -= 1
            self.refused.append(retry)
            raise TooManyRequests(429, "the server is saturated with uploads", {"retry_after": self.retry_after})
        ack = super().send(target, batch, retry=retry)
        if batch.records:
            self.sent.append(len(batch.records))
        return msgspec.structs.replace(ack, flush_interval=self.hint)


def _journal(path: Path) -> JournalWriter:
    header = JournalHeader(version=1, writer=uuid.uuid4().hex, entity="default", project="pace",
                           run_id=path.stem, created=0.0, mode="online")
    writer = JournalWriter(path, header)
    writer.append([RunStart(seq=1, ts=0.0, entity="default", project="pace", run_id=path.stem)])
    return writer


def _rows(first_seq: int, n: int) -> list[Any]:
    return [History(seq=first_seq + i, ts=0.0, step=first_seq - 2 + i, runtime=0.0, data={"x": float(i)})
            for i in range(n)]


def _until(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _points(ingestor: Ingestor, run_id: str) -> int:
    pk = ingestor.metadata.run_pk("default", "pace", run_id)
    assert pk is not None
    return int(ingestor.metadata.metric_summaries(pk)["x"]["count"])


def test_wake_ups_are_coalesced_unless_a_full_batch_waits(ingestor: Ingestor, tmp_path: Path) -> None:
    journal = tmp_path / "coalesced.twj"
    writer = _journal(journal)
    sink = CountingSink(ingestor)
    uploader = Uploader(journal, sink, "run default/pace/coalesced", heartbeat_interval=600, send_interval=600)
    uploader.start()
    try:
        uploader.wake(1)
        _until(lambda: uploader.acked == 1, "the first batch (nothing was sent yet: no pace to keep)")
        seq = 2
        for _ in range(20):  # the writer's drains, each waking the uploader
            writer.append(_rows(seq, 5))
            seq += 5
            uploader.wake(seq - 1)
        time.sleep(0.3)
        assert uploader.acked == 1 and sink.sent == [1], "woken within the send interval: nothing may go yet"

        writer.append(_rows(seq, 1000))  # a full batch waiting goes at once, whatever the pace
        seq += 1000
        uploader.wake(seq - 1)
        _until(lambda: uploader.acked == seq - 1, "the full batch")
        assert sink.sent == [1, 1000, 100]  # everything waiting, in batches of at most 1,000 records

        writer.append(_rows(seq, 3))
        uploader.wake(seq + 2)
        assert uploader.wait_for(seq + 2, timeout=30), "finish() does not wait for the pace"
        assert _points(ingestor, "coalesced") == seq + 2 - 1
    finally:
        uploader.stop(5.0)
        writer.close()


def test_a_busy_server_is_waited_out_not_counted_as_an_outage(ingestor: Ingestor, tmp_path: Path) -> None:
    journal = tmp_path / "busy.twj"
    writer = _journal(journal)
    sink = CountingSink(ingestor, busy=3)
    sink.hint = 2.5
    uploader = Uploader(journal, sink, "run default/pace/busy", heartbeat_interval=600, send_interval=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uploader.start()
        try:
            writer.append(_rows(2, 50))
            uploader.wake(51)
            _until(lambda: uploader.acked == 51, "delivery after three 429s")
            assert uploader.busy == 3 and uploader.breaker.opened == 0 and uploader.failed is None
            # after a 429 the uploader waits, not the transport: single attempts until an ack
            assert sink.refused == [True, False, False]
            assert uploader.pace == 2.5, "the server's flush interval sets the pace"

            sink.hint = None  # the server is no longer busy: back to the run's own pace
            writer.append(_rows(52, 10))
            assert uploader.wait_for(61, timeout=30)
            assert uploader.pace == 0.05
            assert _points(ingestor, "busy") == 60
        finally:
            uploader.stop(5.0)
            writer.close()
    assert not [w for w in caught if issubclass(w.category, TrackwellWarning)], "a 429 is not an outage to warn of"
