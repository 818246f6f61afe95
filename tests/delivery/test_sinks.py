"""The Sink seam: delivery, `trackwell sync`'s engine and the live uploader work the same through
an in-process sink as over HTTP: exactly once, sequence gaps healed, refused records set aside,
outages ridden out with the breaker's backoff. The sink delivers into a real ``Ingestor`` on real
SQLite and DuckDB files; the only stand-in is a sink that raises while "down"."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_helpers import logged, wait_for

import trackwell
from trackwell.schema import Ack, Batch, DefineMetric, History, RunStart
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.deadletter import DeadLetters
from trackwell.sdk.delivery import deliver
from trackwell.sdk.journal import (
    JournalHeader,
    JournalReader,
    JournalWriter,
    read_ack,
    synced_path,
    write_ack,
)
from trackwell.sdk.sinks import InProcessSink, Target
from trackwell.sdk.sync import inspect, sync_journal
from trackwell.sdk.uploader import Uploader
from trackwell.server.ingest import (
    ConcurrentIngest,
    Ingestor,
    InvalidBatch,
    ResumeConflict,
    SequenceGap,
    WriterConflict,
)

# The statuses server/routers/records.py answers these with.
ANSWERS: dict[type[BaseException], int] = {InvalidBatch: 422, SequenceGap: 409, ResumeConflict: 409,
                                           WriterConflict: 409, ConcurrentIngest: 503}


@pytest.fixture
def ingestor(tmp_path: Path) -> Iterator[Ingestor]:
    ing = Ingestor.open(f"sqlite:///{tmp_path / 'trackwell.db'}", tmp_path / "metrics.duckdb")
    yield ing
    ing.close()


def _sink(ingestor: Ingestor) -> InProcessSink:
    return InProcessSink(ingestor, answers=ANSWERS)


def _stored(ingestor: Ingestor, journal: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The run's history rows and its points per metric, as the server's stores hold them."""
    h = JournalReader(journal).header
    pk = ingestor.metadata.run_pk(h.entity, h.project, h.run_id)
    assert pk is not None, f"run {h.run_id} is not on the server"
    rows = ingestor.metrics.scan(pk, None, None, 1_000_000)[0]
    counts = {k: int(v["count"]) for k, v in ingestor.metadata.metric_summaries(pk).items()}
    return rows, counts


def _assert_exactly_once(ingestor: Ingestor, journal: Path, keys: tuple[str, ...] = ("x", "i")) -> None:
    want = logged(journal)
    rows, counts = _stored(ingestor, journal)
    assert [tuple(r.get(k) for k in ("_step", *keys)) for r in rows] == \
        [tuple(r.get(k) for k in ("_step", *keys)) for r in want]
    for key in keys:
        assert counts[key] == sum(1 for r in want if key in r), f"{key}: points applied more than once"


def _journal(path: Path, run_id: str) -> JournalWriter:
    header = JournalHeader(version=1, writer=uuid.uuid4().hex, entity="default", project="sinks",
                           run_id=run_id, created=0.0, mode="online")
    writer = JournalWriter(path, header)
    writer.append([RunStart(seq=1, ts=0.0, entity="default", project="sinks", run_id=run_id)])
    return writer


def _rows(first_seq: int, first_step: int, n: int) -> list[Any]:
    return [History(seq=first_seq + i, ts=0.0, step=first_step + i, runtime=0.0,
                    data={"x": float(first_step + i), "i": first_step + i}) for i in range(n)]


def test_a_run_delivered_in_process_lands_exactly_once(ingestor: Ingestor, tmp_path: Path) -> None:
    run = trackwell.init(project="sinks", mode="offline", dir=tmp_path, reinit=True, config={"lr": 0.1},
                         settings={"quiet": True, "console": "off"})
    for i in range(200):
        run.log({"x": i / 10, "i": i})
    run.finish()
    journal = run.journal_path()
    last = max(r.seq for r in JournalReader(journal).records())
    write_ack(journal, 50)  # a stale .ack ahead of the server: it answers with a gap, delivery heals it
    sink = _sink(ingestor)

    outcome = sync_journal(inspect(journal), sink)  # `trackwell sync`'s engine, in process
    result = outcome.result
    assert result.complete and result.acked == last == read_ack(journal) and result.saw_exit
    assert outcome.marked_synced and synced_path(journal).exists()
    assert deliver(journal, sink).sent == 0  # nothing past the ack
    again = deliver(journal, sink, recheck=True)  # the last record resent: acknowledged, not re-applied
    assert again.complete and again.sent == 1
    _assert_exactly_once(ingestor, journal)
    stored = ingestor.metadata.get_run("default", "sinks", run.id)
    assert stored["state"] == "finished" and stored["config"] == {"lr": 0.1}


def test_a_record_the_ingestor_refuses_is_dead_lettered_and_the_rest_delivered(
        ingestor: Ingestor, tmp_path: Path) -> None:
    journal = tmp_path / "run-refused.twj"
    writer = _journal(journal, "refused")
    writer.append([*_rows(2, 0, 10), DefineMetric(seq=12, ts=0.0, name="x", summary="median"), *_rows(13, 10, 10)])
    writer.close()

    with pytest.warns(TrackwellWarning, match="summary op 'median'"):
        result = deliver(journal, _sink(ingestor))  # a 422 naming the record, as over HTTP
    assert result.complete and result.dead_lettered == 1
    assert [letter.seq for letter in DeadLetters(journal).letters()] == [12]
    _assert_exactly_once(ingestor, journal)


class FlakySink(InProcessSink):
    """An in-process sink that cannot be reached while ``down`` is set."""

    def __init__(self, ingestor: Ingestor) -> None:
        super().__init__(ingestor, answers=ANSWERS)
        self.down = threading.Event()
        self.refused: list[bool] = []  # the ``retry`` flag of each request that failed

    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        if self.down.is_set():
            self.refused.append(retry)
            raise ConnectionError("the sink is down")
        return super().send(target, batch, retry=retry)


def test_the_uploader_backs_off_while_its_sink_raises_and_catches_up_exactly_once(
        ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKWELL_RETRY_INITIAL_INTERVAL", "0.02")  # the breaker's backoff, short
    monkeypatch.setenv("TRACKWELL_RETRY_MAX_INTERVAL", "0.2")
    journal = tmp_path / "run-outage.twj"
    writer = _journal(journal, "outage")
    writer.append(_rows(2, 0, 100))
    sink = FlakySink(ingestor)
    sink.down.set()
    states: list[str] = []
    uploader = Uploader(journal, sink, "run default/sinks/outage", on_state=states.append, heartbeat_interval=60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uploader.start()
        try:
            wait_for(lambda: len(sink.refused) >= 3, "the uploader to probe the sink again after failing")
            assert uploader.breaker.open and uploader.acked == 0
            assert sink.refused[1:] == [False] * (len(sink.refused) - 1)  # probes: one attempt each
            writer.append(_rows(102, 100, 100))  # logging goes on during the outage
            uploader.wake()
            assert ingestor.metadata.run_pk("default", "sinks", "outage") is None

            sink.down.clear()
            assert uploader.wait_for(201, timeout=30), "the uploader did not catch up after the outage"
            assert not uploader.breaker.open and uploader.failed is None and "running" in states
            _assert_exactly_once(ingestor, journal)

        finally:
            uploader.stop(5.0)
            writer.close()
    outage = [w for w in caught if issubclass(w.category, TrackwellWarning)]
    assert len(outage) == 1 and "cannot upload run default/sinks/outage yet" in str(outage[0].message)


def test_the_seam_loads_no_http_or_server_code(tmp_path: Path) -> None:
    """Delivery and its sinks import without httpx or the server: an in-process sink is handed
    its receiver, and HttpSink loads the transport only when it connects."""
    code = ("import sys\n"
            "import trackwell.sdk.delivery, trackwell.sdk.sinks, trackwell.sdk.sync, trackwell.sdk.uploader\n"
            "print([m for m in ('httpx', 'trackwell.transport', 'trackwell.server') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]"]


class _BusyOnce(InProcessSink):
    """A server that is saturated for its first ``busy`` batches: 429 with a Retry-After."""

    def __init__(self, ingestor: Ingestor, busy: int) -> None:
        super().__init__(ingestor, answers=ANSWERS)
        self.busy = busy

    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        from trackwell.transport import TooManyRequests

        if self.busy:
            self.busy -= 1
            raise TooManyRequests(429, "the server is saturated", {"retry_after": 0.01})
        return super().send(target, batch, retry=retry)


def test_sync_waits_out_a_saturated_servers_429s_and_delivers_everything(ingestor: Ingestor,
                                                                        tmp_path: Path) -> None:
    run = trackwell.init(project="sinks", mode="offline", dir=tmp_path, reinit=True,
                         settings={"quiet": True, "console": "off"})
    for i in range(300):
        run.log({"x": i / 10, "i": i})
    run.finish()
    journal = run.journal_path()
    sink = _BusyOnce(ingestor, busy=3)
    outcome = sync_journal(inspect(journal), sink)  # busy, not down: no error, no lost records
    assert sink.busy == 0 and outcome.result.complete and outcome.marked_synced
    _assert_exactly_once(ingestor, journal)
