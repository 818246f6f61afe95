"""Delivery of journal records to the server: ``deliver()`` for sync, ``Uploader`` for live runs.

Exactly-once comes from the server's applied-seq mark: we send records past the last ack, persist
each ack next to the journal, and on a sequence gap resend from ``applied_seq + 1``. Failures to
reach the server never drop data; it stays in the journal for the next try or ``trackwell sync``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwell.schema import AnyRecord, Batch, Exit
from trackwell.sdk.errors import warn
from trackwell.sdk.journal import JournalError, JournalReader, read_ack, write_ack

if TYPE_CHECKING:
    from trackwell.transport import Client

MAX_BATCH_RECORDS = 1000
MAX_BATCH_BYTES = 4 * 1024 * 1024
_MAX_BACKOFF = 30.0
_IDLE_POLL = 5.0  # the writer wakes us after each write; this only bounds a missed wake-up

Progress = Callable[[int], None]


@dataclass
class DeliveryResult:
    acked: int  # highest seq the server acknowledged
    last_seq: int  # highest seq in the journal
    saw_exit: bool  # the journal ends with the run's Exit record
    sent: int  # records sent by this call

    @property
    def complete(self) -> bool:
        return self.acked >= self.last_seq


class Delivery:
    """Sends one journal's unacknowledged records; call ``pump()`` again as the journal grows."""

    def __init__(self, journal: Path, client: Client, progress: Progress | None = None) -> None:
        self.journal = Path(journal)
        self.client = client
        self.progress = progress
        self.reader = JournalReader(self.journal)
        self.acked = read_ack(self.journal)
        self.last_seq = 0
        self.saw_exit = False
        self._offset = self.reader.data_offset  # first frame not yet acknowledged (or skipped)

    def pump(self) -> int:
        """Deliver every record now in the journal past the ack; returns how many were sent."""
        from trackwell.transport import SequenceGapError

        sent, gaps = 0, 0
        while True:
            try:
                return sent + self._pass()
            except SequenceGapError as gap:
                gaps += 1
                if gaps > 3:  # the server keeps disagreeing with what we send: not a gap we can heal
                    raise
                # resend from what the server really has (also heals a stale or lost .ack file)
                self.acked = gap.applied_seq
                write_ack(self.journal, self.acked)
                self._offset = self.reader.data_offset

    def result(self, sent: int = 0) -> DeliveryResult:
        return DeliveryResult(self.acked, self.last_seq, self.saw_exit, sent)

    def _pass(self) -> int:
        sent = 0
        batch: list[AnyRecord] = []
        size, pos = 0, self._offset
        batch_end = pos
        for record, end in self.reader.read(self._offset):
            frame, pos = end - pos, end
            if record.seq > self.last_seq:
                self.last_seq = record.seq
            if isinstance(record, Exit):
                self.saw_exit = True
            if record.seq <= self.acked:
                if not batch:
                    self._offset = end
                continue
            if batch and (len(batch) >= MAX_BATCH_RECORDS or size + frame > MAX_BATCH_BYTES):
                sent += self._send(batch, batch_end)
                batch, size = [], 0
            batch.append(record)
            size += frame
            batch_end = end
        if batch:
            sent += self._send(batch, batch_end)
        return sent

    def _send(self, records: list[AnyRecord], end: int) -> int:
        from trackwell.transport import SequenceGapError

        h = self.reader.header
        ack = self.client.send_batch(h.entity, h.project, h.run_id, Batch(writer=h.writer, records=records))
        if ack.applied_seq < records[-1].seq:  # partly applied: resume from the server's mark
            raise SequenceGapError(409, "batch partly applied", {"applied_seq": ack.applied_seq})
        self.acked = ack.applied_seq
        write_ack(self.journal, self.acked)
        self._offset = end
        if self.progress is not None:
            self.progress(len(records))
        return len(records)


def deliver(journal_path: str | Path, client: Client, progress: Progress | None = None,
            recheck: bool = False) -> DeliveryResult:
    """Send what the server has not acknowledged yet; idempotent (starts after the .ack).

    ``recheck`` distrusts the .ack file: it resends only the journal's last record, and the
    server either acknowledges it (it has everything) or answers with the gap to fill.
    """
    delivery = Delivery(Path(journal_path), client, progress)
    if recheck:
        last = max((record.seq for record, _ in delivery.reader.read()), default=0)
        delivery.acked = max(0, last - 1)
    sent = delivery.pump()
    return delivery.result(sent)


class Uploader:
    """The live run's uploader thread: tails the journal, retries with backoff, never drops."""

    def __init__(self, journal: Path, client: Client, run_label: str) -> None:
        self.client = client
        self.acked = read_ack(journal)
        self.failed: str | None = None  # why uploading stopped for good (a 4xx), if it did
        self.pending_fields: dict[str, Any] = {}  # run fields to PUT (e.g. a renamed run)
        self._journal = journal
        self._delivery: Delivery | None = None  # made on the thread: the first read can be slow
        self._label = run_label
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False
        self._warned = False
        self._thread = threading.Thread(target=self._loop, name="trackwell-uploader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self, _seq: int = 0) -> None:
        self._wake.set()

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Wait until the server acknowledged ``seq`` (False on timeout or a permanent failure)."""
        self._wake.set()
        with self._cond:
            self._cond.wait_for(lambda: self.acked >= seq or self.failed is not None
                                or not self._thread.is_alive(), timeout)
        return self.acked >= seq

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(1.0)  # it may be inside an HTTP request; the data is in the journal anyway

    def _acked(self, _n: int) -> None:
        with self._cond:
            self.acked = self._delivery.acked if self._delivery else self.acked
            self._cond.notify_all()

    def _loop(self) -> None:
        from trackwell.transport import ServerError, TransportError

        try:
            delivery = self._delivery = Delivery(self._journal, self.client, self._acked)
        except (OSError, JournalError) as exc:
            self._give_up(f"cannot read the journal {self._journal}: {exc}")
            return
        backoff = 0.0
        while not self._stopping:
            self._wake.wait(backoff or _IDLE_POLL)
            self._wake.clear()
            if self._stopping:
                return
            try:
                if self.pending_fields:
                    fields, self.pending_fields = self.pending_fields, {}
                    h = delivery.reader.header
                    self.client.upsert_run(h.entity, h.project, h.run_id, **fields)
                delivery.pump()
                backoff = 0.0
            except ServerError as exc:
                if exc.status >= 500 or exc.status == 429:
                    backoff = self._retry_later(str(exc), backoff)
                else:
                    self._give_up(f"the server rejected records of {self._label}: {exc.detail}")
                    return
            except TransportError as exc:
                backoff = self._retry_later(str(exc), backoff)
            except Exception as exc:  # noqa: BLE001 - keep the thread alive, the data is on disk
                backoff = self._retry_later(f"{type(exc).__name__}: {exc}", backoff)

    def _retry_later(self, why: str, backoff: float) -> float:
        if not self._warned and not self._stopping:  # after finish() gave up, stay quiet
            self._warned = True
            warn(f"trackwell: cannot upload {self._label} yet ({why}); the records are "
                          "safe in the journal and upload is retried in the background")
        return min(max(backoff * 2, 1.0), _MAX_BACKOFF)

    def _give_up(self, why: str) -> None:
        warn(f"trackwell: {why}. Uploading stopped; the data stays in {self._journal.parent} "
                      "for `trackwell sync` once the problem is fixed")
        with self._cond:
            self.failed = why
            self._cond.notify_all()
