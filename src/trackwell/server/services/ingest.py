"""Accepting upload batches: the server owns delivery from the moment it acknowledges.

``IngestService.receive`` validates a batch, then in one metadata transaction checks the writer
(its lease: one owner per step, see ``leases``; its seqs: exactly once; its steps: increasing)
and appends the records past the writer's accepted mark to the run's ingest log. That commit is
the acknowledgement: the records are the server's from then on. The stores are brought up to the
log right away in the same request (``projector``), and by a background task for whatever a
crash or a store error left behind, so an accepted batch is applied even if its client never
comes back. Benchmarks and tests drive ``apply`` directly, without HTTP.

An empty batch is a heartbeat: it renews the writer's lease. A journal whose ``RunStart``
carries ``resume`` (offline, or the server unreachable at init) is resolved when its records are
first projected: by then everything logged before it is in the stores, and the earlier
processes it names in ``RunStart.after`` are waited for, so a run's chronology follows its
resume lineage, not the order journals happen to be synced in.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from trackwell.schema import (
    Ack,
    AnyRecord,
    Batch,
    Exit,
    History,
    HistoryBlock,
    RunStart,
    Skipped,
    decode_batch,
    encode,
    last_seq,
)
from trackwell.schema.blocks import last_step as block_last_step
from trackwell.schema.blocks import since
from trackwell.server import validation
from trackwell.server.leases import DEFAULT_LEASE_TIMEOUT, WriterConflict, admit, fenced, live
from trackwell.server.projector import Fresh, Projector
from trackwell.server.services._locks import RunLocks
from trackwell.store.metadata import Accepting, IngestLogStore, RunStore, StateStore, WriterRow

__all__ = ["ConcurrentIngest", "IngestService", "InvalidBatch", "ResumeConflict", "SequenceGap", "WriterConflict",
           "validate"]


_MAX_CACHED_PKS = 100_000


class InvalidBatch(ValueError):
    """The batch cannot be applied as sent (HTTP 422); the message names the problem."""


class SequenceGap(Exception):
    """The batch starts past ``applied_seq + 1`` (HTTP 409): resend from ``applied_seq + 1``."""

    def __init__(self, applied_seq: int, first_seq: int, writer: str) -> None:
        super().__init__(f"writer {writer} has records up to seq {applied_seq} applied, but this batch "
                         f"starts at seq {first_seq}; resend from seq {applied_seq + 1}")
        self.applied_seq = applied_seq


class ConcurrentIngest(RuntimeError):
    """Another process moved a writer mark mid-batch (HTTP 503): retrying is safe."""


class ResumeConflict(Exception):
    """A journal's ``resume=`` cannot be honoured (HTTP 409): the message says what to do."""


def validate(batch: Batch, entity: str, project: str, run_id: str) -> None:
    """Refuse what the stores would refuse or could not read back (``server.validation``); an
    ``InvalidBatch`` raised for one record carries its index and seq (``api_fields``)."""
    try:
        validation.check_batch(batch, entity, project, run_id)
    except validation.InvalidValue as exc:
        raise InvalidBatch(str(exc)) from exc


class IngestService:
    """Accepts batches for (entity, project, run_id) into the log and projects them."""

    def __init__(self, runs: RunStore, states: StateStore, log: IngestLogStore, projector: Projector,
                 locks: RunLocks, *, lease_timeout: float = DEFAULT_LEASE_TIMEOUT, project_inline: bool = True) -> None:
        self._runs, self._states, self._log = runs, states, log
        self._projector = projector
        self._locks = locks
        self.lease_timeout = lease_timeout
        # False leaves projection to ``catch_up`` (tests of the recovery path use it).
        self.project_inline = project_inline
        self.deferred = 0  # batches accepted without projecting them (catch_up resets it)
        self.on_deferred: Callable[[], None] | None = None  # the catch-up task's wake-up
        # (entity, project, run_id) -> pk: a run's pk never changes, and every batch needs it
        self._pks: dict[tuple[str, str, str], int] = {}

    def apply(self, entity: str, project: str, run_id: str, batch: Batch) -> int:
        """Accept ``batch``; returns the writer's acknowledged seq.

        Raises ``InvalidBatch``, ``SequenceGap``, ``ResumeConflict`` or ``WriterConflict``.
        """
        return self.receive(entity, project, run_id, batch).applied_seq

    def apply_bytes(self, entity: str, project: str, run_id: str, body: bytes) -> int:
        """Decode a msgpack ``Batch`` and apply it: the HTTP path minus HTTP."""
        try:
            batch = decode_batch(body)
        except Exception as exc:  # msgspec raises several types; all mean "not a valid batch"
            raise InvalidBatch(str(exc)) from exc
        return self.apply(entity, project, run_id, batch)

    def receive(self, entity: str, project: str, run_id: str, batch: Batch, actor: str | None = None, *,
                project_now: bool = True) -> Ack:
        """Accept the batch into the log, project what can be, answer with the run's state.

        ``project_now=False`` (a saturated server) leaves projection to ``catch_up``, which then
        takes a run's piled-up entries in one transaction per store instead of one per batch."""
        validate(batch, entity, project, run_id)
        with self._locks.lock(entity, project, run_id):
            pk, accepted, fresh = self._accept(entity, project, run_id, batch, actor)
            if pk is None:
                return Ack(writer=batch.writer, applied_seq=0, state=None)
            if self.project_inline and project_now:
                self._projector.settle(pk, entity, project, run_id, fresh)
            else:
                self.deferred += 1
                if self.on_deferred is not None:
                    self.on_deferred()
        return Ack(writer=batch.writer, applied_seq=accepted, state=self._states.run_state(pk))

    def claim(self, entity: str, project: str, run_id: str, writer: str, *, host: str | None = None,
              pid: int | None = None, label: str | None = None, shared: bool = False, primary: bool | None = None,
              after: dict[str, int] | None = None, actor: str | None = None) -> WriterRow:
        """Register a writer before its first batch (``init()`` online): a conflict surfaces at
        ``init`` instead of in the background uploader. Idempotent for the same writer.
        ``primary=None``: a shared writer is the primary if no live one is."""
        claim = WriterRow(writer=writer, host=host, pid=pid, label=label, shared=shared,
                          is_primary=primary is not False, after=dict(after or {}))
        path = f"{entity}/{project}/{run_id}"
        with self._locks.lock(entity, project, run_id):
            pk = self._runs.ensure_run(entity, project, run_id, created_by=actor)
            now = time.time()
            with self._log.accepting(pk) as acc:
                me = acc.writers.get(claim.writer)
                if me is None:
                    self._admit(acc, claim, now, path, auto_primary=primary is None)
                else:
                    fenced(me, acc.writers.values(), now, self.lease_timeout, path)
                    acc.update_writer(claim.writer, lease_at=now)
                return acc.writers[claim.writer]

    def catch_up(self) -> int:
        """Project every run with entries left in the log (deferred by a saturated server, or left
        by a crash or a store error); returns how many entries still wait (for an earlier
        process's records, or a store)."""
        self.deferred = 0
        return self._projector.catch_up(self._log.pending_runs(), self._locks.lock)

    # -- accepting ------------------------------------------------------------------------

    def _accept(self, entity: str, project: str, run_id: str, batch: Batch,
                actor: str | None) -> tuple[int | None, int, Fresh | None]:
        """(run pk or None for a heartbeat of an unknown run, the writer's accepted seq, the
        records appended to the log now)."""
        writer, records = batch.writer, batch.records
        path = f"{entity}/{project}/{run_id}"
        pk = self._run_pk(entity, project, run_id)
        now = time.time()
        if not records:  # a heartbeat renews the lease
            if pk is None:
                return None, 0, None
            with self._log.accepting(pk) as acc:
                me = acc.writers.get(writer)
                if me is not None:
                    fenced(me, acc.writers.values(), now, self.lease_timeout, path)
                    acc.update_writer(writer, lease_at=now)
            self._states.heartbeat(pk)
            return pk, (me.accepted_seq if me is not None else 0), None
        first, last = records[0].seq, last_seq(records[-1])
        start = records[0] if first == 1 and isinstance(records[0], RunStart) else None
        if first == 1 and type(records[0]) is Skipped:
            # Its RunStart was refused and set aside by an older client (today's sends a stripped
            # RunStart): admit the writer with default fields, its steps as they are.
            start = RunStart(seq=1, ts=records[0].ts, entity=entity, project=project, run_id=run_id)
        if pk is None:
            if first > 1:
                self._runs.refuse_deleted(entity, project, run_id)  # a deleted run's late batch: 410, not a gap
                raise SequenceGap(0, first, writer)
            if start is not None and start.resume == "must":
                raise ResumeConflict(f"run {path} does not exist, so this journal (started with resume='must') "
                                     "cannot resume it; start it again with resume='allow' to create the run")
            pk = self._runs.ensure_run(entity, project, run_id, created_by=actor,
                                          **({"name": start.name} if start is not None and start.name else {}))
        with self._log.accepting(pk) as acc:
            me = acc.writers.get(writer)
            if me is None and batch.parent is not None:
                me = self._companion(acc, writer, batch.parent, first, path)
            elif me is None:
                if start is None:
                    raise SequenceGap(0, first, writer)
                self._check_resume(acc, start, writer, path)
                me = self._admit(acc, self._writer_from(start, writer), now, path, auto_primary=start.primary is None)
            elif me.parent is None:
                fenced(me, acc.writers.values(), now, self.lease_timeout, path)
                if start is not None and me.accepted_seq == 0:
                    self._check_resume(acc, start, writer, path)
            if first > me.accepted_seq + 1:
                raise SequenceGap(me.accepted_seq, first, writer)
            if last <= me.accepted_seq:  # a retry of what the log has: answer from the mark
                acc.update_writer(writer, lease_at=now)
                return pk, me.accepted_seq, None
            pending = since(records, me.accepted_seq + 1)
            last_step = self._check_steps(pending, me, path)
            ended = any(type(rec) is Exit for rec in pending)
            acc.append(writer, pending[0].seq, last, encode(pending), now)
            acc.update_writer(writer, accepted_seq=last, lease_at=now, last_step=last_step,
                              **({"ended": True} if ended else {}))
        return pk, last, (writer, pending[0].seq, pending)

    def _run_pk(self, entity: str, project: str, run_id: str) -> int | None:
        key = (entity, project, run_id)
        pk = self._pks.get(key)
        if pk is None:
            pk = self._runs.run_pk(entity, project, run_id)
            if pk is not None:
                if len(self._pks) >= _MAX_CACHED_PKS:
                    self._pks.clear()
                self._pks[key] = pk
        return pk

    def _admit(self, acc: Accepting, claim: WriterRow, now: float, path: str, auto_primary: bool) -> WriterRow:
        if claim.shared and auto_primary:  # the first live shared writer is the primary
            claim.is_primary = not any(w.shared and w.is_primary and live(w, now, self.lease_timeout)
                                       for w in acc.writers.values() if w.writer != claim.writer)
        admit(claim, acc.writers.values(), now, self.lease_timeout, path)
        for predecessor in claim.after:  # dead on the new writer's disk: their leases end
            if predecessor in acc.writers and not acc.writers[predecessor].ended:
                acc.update_writer(predecessor, ended=True)
        claim.lease_at = claim.claimed_at = now
        acc.add_writer(claim)
        return claim

    @staticmethod
    def _companion(acc: Accepting, writer: str, parent: str, first: int, path: str) -> WriterRow:
        """A writer resending another writer's refused records: same offsets and label, no lease."""
        p = acc.writers.get(parent)
        if p is None:
            raise InvalidBatch(f"batch.parent names writer {parent[:64]}, which has written nothing to run {path}; "
                               "deliver that writer's journal first (`trackwell sync`)")
        if first != 1:
            raise SequenceGap(0, first, writer)
        me = WriterRow(writer=writer, parent=parent, ended=True, shared=p.shared, is_primary=p.is_primary,
                       label=p.label, host=p.host, pid=p.pid, step_offset=p.step_offset,
                       runtime_offset=p.runtime_offset, waiting=p.waiting,
                       after={parent: p.accepted_seq} if p.waiting else {})
        acc.add_writer(me)
        return me

    @staticmethod
    def _writer_from(start: RunStart, writer: str) -> WriterRow:
        """The writer a journal's first record describes (offline runs never claimed at init)."""
        return WriterRow(writer=writer, host=start.host, pid=start.pid, label=start.label, shared=start.shared,
                         is_primary=start.primary is not False, after=dict(start.after),
                         waiting=start.resume is not None)

    @staticmethod
    def _check_resume(acc: Accepting, start: RunStart, writer: str, path: str) -> None:
        if start.resume is None:
            return
        exists = any(w.writer != writer and w.accepted_seq > 0 for w in acc.writers.values()) \
            or acc.run["fork_parent"] is not None
        if start.resume == "must" and not exists:
            raise ResumeConflict(f"run {path} has no history from an earlier process, so this journal (started "
                                 "with resume='must') cannot resume it; start it again with resume='allow'")
        if start.resume == "never" and exists:
            raise ResumeConflict(f"run {path} already exists and this journal was started with resume='never'; "
                                 "start it again with resume='allow' to continue that run, or with another id")
        acc.update_writer(writer, waiting=True)

    @staticmethod
    def _check_steps(records: list[AnyRecord], me: WriterRow, path: str) -> int | None:
        """A writer's steps only go up: each (run, key, step) has one owner and is written once."""
        last = me.last_step
        for i, rec in enumerate(records):
            kind = type(rec)
            if kind is History or kind is HistoryBlock:
                if last is not None and rec.step <= last:  # type: ignore[union-attr]
                    raise InvalidBatch(f"records[{i}] (seq {rec.seq}) of writer {me.writer} logs step {rec.step} "  # type: ignore[union-attr]
                                       f"after step {last}; a writer's steps must increase (run {path})")
                last = rec.step  # type: ignore[union-attr]
            if kind is HistoryBlock:
                if rec.dsteps and min(rec.dsteps) <= 0:  # type: ignore[union-attr]
                    raise InvalidBatch(f"records[{i}] (seq {rec.seq}) of writer {me.writer} holds rows whose steps "
                                       f"do not increase; a writer's steps must increase (run {path})")
                last = block_last_step(rec)  # type: ignore[arg-type]
        return last
