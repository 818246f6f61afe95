"""Delivery of journal records to a sink: ``deliver()`` for sync, ``Delivery`` for the live
``Uploader`` (uploader.py), ``retry_dead_letters()`` for records the server refused before.

Exactly-once comes from the other side's applied-seq mark: we send records past the last ack,
persist each ack next to the journal, and on a sequence gap resend from ``applied_seq + 1``.
Failures to reach it never drop data; it stays in the journal for the next try or
``trackwell sync``. Where the records go is the sink's business (``sinks/``: HTTP to a server,
in-process for tests).

Layers (see docs/delivery.md): the transport retries one request; batches are sized under the
server's body limit and halved on 413/422 down to single records, which are dead-lettered and
replaced by a ``Skipped`` placeholder so the writer's seqs stay gap-free; the live uploader's
circuit breaker backs off across requests during an outage.

Records lost to damage on disk (the journal reader skips them and reports them, see
journal.py) leave a hole in the seqs, which the server would answer with a sequence gap
forever. A ``Skipped`` placeholder ("lost to journal corruption") is sent for each lost seq
instead: the rest is delivered exactly once and the loss is visible on the server;
``DeliveryResult.lost`` tells the caller, and `trackwell sync` never marks such a journal synced.
A lost ``RunStart`` (seq 1) is rebuilt from the journal header instead: the server admits a
writer by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from trackwell.schema import Ack, AnyRecord, Batch, Exit, HistoryBlock, RunStart, Skipped, last_seq
from trackwell.schema.blocks import since, unpack
from trackwell.sdk.deadletter import DeadLetter, DeadLetters, dead_path, dead_writer
from trackwell.sdk.errors import warn
from trackwell.sdk.journal import JournalReader, Loss, read_ack, write_ack

if TYPE_CHECKING:
    from trackwell.sdk.sinks import Sink
    from trackwell.transport import BatchBudget, ServerError

_MAX_REASON = 500
_PLACEHOLDER_BYTES = 64  # a Skipped record's encoded size, near enough for batch budgeting

Progress = Callable[[int], None]
Item = tuple[AnyRecord, int]  # a record and the position to resume from once it is acknowledged


def _plain(text: str | None, limit: int) -> str | None:
    """``text`` if any server takes it (short, no NUL or lone surrogate), else None."""
    if text is None or len(text) > limit or "\x00" in text:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def placeholder(record: AnyRecord, reason: str) -> AnyRecord:
    """What goes in a refused record's place. A refused ``RunStart`` keeps the writer's identity
    (resume mode, shared-mode label, the earlier processes it continues) without the fields that
    can be refused, so the server still places this writer's steps right; anything else is a
    ``Skipped``."""
    if isinstance(record, RunStart):
        return RunStart(seq=record.seq, ts=record.ts, entity=record.entity, project=record.project,
                        run_id=record.run_id, resume=record.resume, shared=record.shared, primary=record.primary,
                        label=_plain(record.label, 128), host=_plain(record.host, 256),
                        pid=record.pid if record.pid is not None and 0 <= record.pid < 2**31 else None,
                        after=dict(record.after) if len(record.after) <= 1000 else {})
    return Skipped(seq=record.seq, ts=record.ts, reason=reason)


class PlaceholderRefused(Exception):
    """Even a tiny Skipped placeholder (or heartbeat) was refused: something in front of the
    server is misbehaving. Transient for the uploader: the dead letter is on disk, retry later."""


@dataclass
class DeliveryResult:
    acked: int  # highest seq the server acknowledged
    last_seq: int  # highest seq in the journal
    saw_exit: bool  # the journal ends with the run's Exit record
    sent: int  # records sent by this call
    dead_lettered: int = 0  # records refused by the server and set aside by this call
    lost: list[Loss] = field(default_factory=list)  # records damage on disk took (placeholders went)

    @property
    def complete(self) -> bool:
        return self.acked >= self.last_seq


class _Stream:
    """Sends one writer's records past its ack: size-bounded batches, halved on 413/422, single
    refused records dead-lettered. Subclasses say where the records come from."""

    def __init__(self, journal: Path, sink: Sink, writer: str, ack_file: Path,
                 progress: Progress | None, on_ack: Callable[[Ack], None] | None) -> None:
        from trackwell.transport import BatchBudget

        self.journal = Path(journal)
        self.sink = sink
        self.reader = JournalReader(self.journal)
        h = self.reader.header
        self.target = (h.entity, h.project, h.run_id)
        self.writer = writer
        self.parent: str | None = None  # set for a writer that resends another's records
        self.progress = progress
        self.on_ack = on_ack
        self.retry = True  # False while the uploader's breaker probes: one attempt per request
        self.budget = BatchBudget()
        self.dead = DeadLetters(self.journal)
        self.acked = read_ack(ack_file)
        self.last_seq = 0
        self.saw_exit = False
        self.sent = 0
        self.dead_lettered = 0
        self._ack_file = ack_file
        self._dead_seqs = self.dead.seqs(writer)  # live set: add() updates it
        self._warned_keys: set[str] = set()
        self._gaps: list[Loss] = []  # holes sent as placeholders that the reader did not report
        self._position = 0

    # -- where records come from ----------------------------------------------------------

    def _items(self) -> Iterator[tuple[AnyRecord, int, int]]:
        """(record, position after it, encoded size) from ``self._position`` on."""
        raise NotImplementedError

    def _rewind(self) -> None:
        raise NotImplementedError

    # -- sending --------------------------------------------------------------------------

    def pump(self) -> int:
        """Deliver every record now available past the ack; returns how many were sent."""
        from trackwell.transport import SequenceGapError

        before, gaps = self.sent, 0
        while True:
            try:
                self._pass()
                return self.sent - before
            except SequenceGapError as gap:
                gaps += 1
                if gaps > 3:  # the server keeps disagreeing with what we send: not a gap we can heal
                    raise
                # resend from what the server really has (also heals a stale or lost .ack file)
                self.acked = gap.applied_seq
                write_ack(self._ack_file, self.acked)
                self._rewind()

    def result(self) -> DeliveryResult:
        return DeliveryResult(self.acked, self.last_seq, self.saw_exit, self.sent, self.dead_lettered,
                              self._losses())

    def _losses(self) -> list[Loss]:
        raise NotImplementedError

    def _gap(self, first: int, last: int) -> None:
        """Placeholders go for seqs ``first..last``: make sure the loss is reported."""
        if not any(loss.first_seq <= first and last <= loss.last_seq for loss in self._losses()):
            self._gaps.append(Loss(first, last, None, None))

    def _placeholder(self, seq: int, ts: float) -> AnyRecord:
        """What stands in for a record lost on disk."""
        return Skipped(seq=seq, ts=ts, reason=self._lost_reason(seq))

    def _lost_reason(self, seq: int) -> str:
        raise NotImplementedError

    def _pass(self) -> None:
        batch: list[Item] = []
        size = 0
        expected, before = self.acked + 1, self._position  # next seq to send; where it starts
        for record, pos, rsize in self._items():
            end_seq = last_seq(record)
            if end_seq < expected:  # acknowledged already
                if not batch:
                    self._position = pos
                before = pos
                continue
            if record.seq > expected:  # lost on disk: placeholders keep the seqs gap-free
                self._gap(expected, record.seq - 1)
                for seq in range(expected, record.seq):
                    batch, size = self._add(batch, size, (self._placeholder(seq, record.ts), before),
                                            _PLACEHOLDER_BYTES)
            if type(record) is HistoryBlock and (record.seq < expected or self._dead_within(record)):
                parts = self._parts(record, expected)
                for part in parts[:-1]:  # resumed from ``before``: the acknowledged rows are skipped
                    batch, size = self._add(batch, size, (part, before), rsize // len(parts))
                record = parts[-1]
            record = self._aside(record)
            if self.budget.full(len(batch), size, rsize):  # inline: the hot path of sync
                self._send(batch)
                batch, size = [], 0
            batch.append((record, pos))
            size += rsize
            expected, before = end_seq + 1, pos
        if batch:
            self._send(batch)

    def _parts(self, block: HistoryBlock, expected: int) -> list[AnyRecord]:
        """What of a block goes: the rows from ``expected`` on (a block partly acknowledged), each
        row set aside earlier as its placeholder (then every row on its own)."""
        parts = since([block], expected)
        if not self._dead_within(block):
            return parts
        return [self._aside(row) for part in parts for row in (unpack(part) if type(part) is HistoryBlock else [part])]

    def _dead_within(self, block: HistoryBlock) -> bool:
        return bool(self._dead_seqs) and not self._dead_seqs.isdisjoint(range(block.seq, block.last_seq + 1))

    def _aside(self, record: AnyRecord) -> AnyRecord:
        """A record set aside earlier goes only as its placeholder again."""
        if record.seq in self._dead_seqs and type(record) is not HistoryBlock:
            return placeholder(record, f"dead-lettered in {self.dead.path.name}")
        return record

    def _add(self, batch: list[Item], size: int, item: Item, item_size: int) -> tuple[list[Item], int]:
        """Add to the batch, sending it first if the item would not fit; returns the new batch."""
        if self.budget.full(len(batch), size, item_size):
            self._send(batch)
            batch, size = [], 0
        batch.append(item)
        return batch, size + item_size

    def _send(self, items: list[Item]) -> None:
        from trackwell.transport import send_halving

        send_halving(items, self._post, self._refused, self.budget)

    def _post(self, items: Sequence[Item]) -> None:
        from trackwell.transport import SequenceGapError

        records = [record for record, _ in items]
        ack = self.sink.send(self.target, Batch(writer=self.writer, records=records, parent=self.parent),
                             retry=self.retry)
        if ack.applied_seq < last_seq(records[-1]):  # partly applied: resume from the server's mark
            raise SequenceGapError(409, "batch partly applied", {"applied_seq": ack.applied_seq})
        self.acked = ack.applied_seq
        write_ack(self._ack_file, self.acked)
        self._position = items[-1][1]
        count = last_seq(records[-1]) - records[0].seq + 1  # rows of blocks count one each
        self.sent += count
        if self.progress is not None:
            self.progress(count)
        if self.on_ack is not None:
            self.on_ack(ack)

    def _refused(self, item: Item, exc: ServerError) -> None:
        """The server refused this one record: keep it in the dead-letter file, send a placeholder."""
        from trackwell.transport import REFUSED, ServerError, server_limit

        record, pos = item
        if type(record) is HistoryBlock:  # find the refused rows: one by one, never the whole block
            rows = unpack(record)
            from trackwell.transport import send_halving

            items = [(row, self._position) for row in rows[:-1]] + [(rows[-1], pos)]
            send_halving(items, self._post, self._refused, self.budget)
            return
        if isinstance(record, Skipped) or record.seq in self._dead_seqs:  # the placeholder itself
            raise PlaceholderRefused(f"the server refused a placeholder record ({exc})")
        limit = server_limit(exc)
        size = len(msgspec.msgpack.encode(record))
        reason = (f"{size} bytes is over the server's request limit of {limit} bytes" if limit
                  else f"refused with HTTP {exc.status}: {exc.detail}")[:_MAX_REASON]
        letter = self.dead.add(self.writer, record, reason)  # on disk before the placeholder goes
        self.dead_lettered += 1
        self._warn(letter)
        try:
            self._post([(placeholder(record, reason), pos)])
        except ServerError as again:
            if again.status in REFUSED:
                raise PlaceholderRefused(f"the server refused a placeholder record ({again})") from again
            raise

    def _warn(self, letter: DeadLetter) -> None:
        if letter.key in self._warned_keys:
            return
        self._warned_keys.add(letter.key)
        fix = ("raise the server's limit (`trackwell server --max-request-bytes`) or log less under that key"
               if "request limit" in letter.reason else "fix the cause")
        warn(f"trackwell: the server refused a record of run {'/'.join(self.target)} (key {letter.key!r}, "
             f"{letter.size} bytes): {letter.reason}. It is kept in {self.dead.path} and delivery "
             f"continues; {fix}, then run `trackwell sync --retry-dead-letters {self.journal.parent}`")


class Delivery(_Stream):
    """Sends one journal's unacknowledged records; call ``pump()`` again as the journal grows."""

    def __init__(self, journal: Path, sink: Sink, progress: Progress | None = None,
                 on_ack: Callable[[Ack], None] | None = None) -> None:
        header = JournalReader(journal).header
        super().__init__(journal, sink, header.writer, Path(journal), progress, on_ack)
        self._position = self.reader.data_offset  # first frame not yet acknowledged

    def _items(self) -> Iterator[tuple[AnyRecord, int, int]]:
        pos = self._position
        for record, end in self.reader.read(self._position):
            size, pos = end - pos - 8, end  # the frame's payload is the record's encoding
            if last_seq(record) > self.last_seq:
                self.last_seq = last_seq(record)
            if isinstance(record, Exit):
                self.saw_exit = True
            yield record, end, size

    def _rewind(self) -> None:
        self._position = self.reader.data_offset

    def _losses(self) -> list[Loss]:
        return [*self.reader.losses, *self._gaps]

    def _placeholder(self, seq: int, ts: float) -> AnyRecord:
        if seq != 1:
            return super()._placeholder(seq, ts)
        # The server admits a writer by its RunStart: rebuild it from the header (name, config and
        # the like are lost with it). An offline journal may have resumed the run: "allow" lets
        # the server continue after an earlier process, or create the run if there was none.
        h = self.reader.header
        return RunStart(seq=1, ts=ts, entity=h.entity, project=h.project, run_id=h.run_id,
                        resume="allow" if h.mode == "offline" else None)

    def _lost_reason(self, seq: int) -> str:
        for loss in self.reader.losses:
            if loss.first_seq <= seq <= loss.last_seq and loss.start is not None:
                return f"lost to journal corruption at bytes {loss.start}-{loss.end} of {self.journal.name}"
        return f"lost to journal corruption in {self.journal.name}"


class DeadLetterRetry(_Stream):
    """Resends a journal's dead letters under their own writer: letter i is seq i, with its own
    ``.dead.ack``. Letters refused again are appended anew and wait for the next retry."""

    def __init__(self, journal: Path, sink: Sink, progress: Progress | None = None) -> None:
        header = JournalReader(journal).header
        super().__init__(journal, sink, dead_writer(header.writer), dead_path(Path(journal)), progress, None)
        self.parent = header.writer  # the server gives the letters that writer's step offsets
        # fixed now: re-appended letters are not retried in a loop; ordered by number (one per n)
        self._letters = sorted({letter.n: letter for letter in self.dead.letters()}.values(),
                               key=lambda letter: letter.n)
        self.last_seq = self._letters[-1].n if self._letters else 0
        numbers = {letter.n for letter in self._letters}
        self._lost = [n for n in range(self.acked + 1, self.last_seq) if n not in numbers]

    def _items(self) -> Iterator[tuple[AnyRecord, int, int]]:
        for i in range(self._position, len(self._letters)):
            letter = self._letters[i]
            yield msgspec.structs.replace(letter.decode(), seq=letter.n), i + 1, letter.size

    def _rewind(self) -> None:
        self._position = 0

    def _losses(self) -> list[Loss]:
        """Letters damaged on disk before they were retried (numbers, not journal seqs)."""
        return [*(Loss(n, n, None, None) for n in self._lost), *self._gaps]

    def _lost_reason(self, seq: int) -> str:
        return f"dead letter lost to corruption in {self.dead.path.name}"


def deliver(journal_path: str | Path, sink: Sink, progress: Progress | None = None,
            recheck: bool = False, budget: BatchBudget | None = None) -> DeliveryResult:
    """Send what the server has not acknowledged yet; idempotent (starts after the .ack).
    ``budget``: how much one request may hold (default: the transport's).

    ``recheck`` distrusts the .ack file: it resends only the journal's last record, and the
    server either acknowledges it (it has everything) or answers with the gap to fill.
    """
    delivery = Delivery(Path(journal_path), sink, progress)
    if budget is not None:
        delivery.budget = budget
    if recheck:
        last = max((last_seq(record) for record, _ in delivery.reader.read()), default=0)
        delivery.acked = max(0, last - 1)
    delivery.pump()
    return delivery.result()


def retry_dead_letters(journal_path: str | Path, sink: Sink,
                       progress: Progress | None = None) -> DeliveryResult:
    """Resend the journal's dead letters (exactly once, however often it is called)."""
    retry = DeadLetterRetry(Path(journal_path), sink, progress)
    retry.pump()
    return retry.result()
