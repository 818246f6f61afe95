"""The writer thread: turns queued calls into numbered records and writes them to the journal.

``log()`` only appends ``(row, step, ts)`` (a committed row: the common call) or ``(row, step,
commit, ts)`` to a deque; everything costly (row merging, the summary mirror, packing, the disk
write) happens here, at least every ``flush_interval`` seconds, so a ``kill -9`` loses at most that
much logging. History rows go to the journal as ``(data, step, ts)`` (``JournalWriter.append_rows``:
packed by column, ``_runtime``/``_timestamp`` derived from ts), other records as records.

The thread must outlive any one bad event: an event that fails is skipped with a warning, a
record the journal cannot encode is repaired (ints past 64 bits as floats, lone surrogates as
"?") or else replaced by a ``Skipped`` placeholder and counted in ``lost``, which ``finish()``
reports. ``failed`` says why the thread stopped, should it ever stop early.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    History,
    Preempting,
    Record,
    RunUpdate,
    Skipped,
    SummaryUpdate,
    encode,
)
from trackwell.schema.blocks import Row
from trackwell.sdk import events as ev
from trackwell.sdk.errors import warn
from trackwell.sdk.journal import JournalWriter
from trackwell.sdk.mirror import SummaryMirror
from trackwell.sdk.values import repair_record

_CHUNK = 8192  # events applied per journal write: bounds the records held in memory
_STALL = 5.0  # seconds log() waits for a writer that makes no progress (make_room)

# What a drain writes, in seq order: runs of History rows ``(first seq, rows)`` and lists of records.
Part = tuple[int, list[Row]] | list[AnyRecord]


class Writer:
    """Owns the JournalWriter after RunStart; one thread, started by ``start()``."""

    def __init__(self, journal: JournalWriter, *, last_seq: int, started: float,
                 interval: float, on_written: Callable[[int], None] | None = None,
                 summary_seed: dict[str, Any] | None = None) -> None:
        self.queue: deque[ev.Event] = deque()
        self.seq = last_seq  # last seq handed out (and, after a drain, written)
        self.draining = False
        self.lost = 0  # records replaced by Skipped placeholders: finish() must say so
        self.failed: str | None = None  # why the thread stopped early (never expected)
        self.mirror = SummaryMirror(summary_seed)
        self._last, self._modes = self.mirror.last, self.mirror.modes  # per row, without a method call
        self._journal = journal
        self._started = started
        self._interval = interval
        self._on_written = on_written
        self._wake = threading.Event()
        self._stopping = False
        self._backlog: list[Part] = []  # what a failed write must not lose
        self._barriers: list[threading.Event] = []
        self._room = threading.Event()  # set when the queue is below _room_at (make_room)
        self._room_at = 0
        self._stalled = False
        self._write_warned = False
        self._repair_warned = False
        # history row being built (commit=False / step= merging)
        self._row: dict[str, Any] = {}
        self._row_step = 0
        self._row_ts = 0.0
        self._handlers: dict[type, Callable[[Any, list[Part]], None]] = {
            ev.Commit: self._on_commit,
            ev.ConfigChange: self._on_config,
            ev.SummaryChange: self._on_summary,
            ev.MetricDefinition: self._on_metric,
            ev.ConsoleLines: self._on_console,
            ev.Exited: self._on_exit,
            ev.PreemptingNow: self._on_preempting,
            ev.Prebuilt: self._on_prebuilt,
            ev.Barrier: self._on_barrier,
            ev.FieldsChange: self._on_fields,
        }
        self._thread = threading.Thread(target=self._loop, name="trackwell-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        if not self._wake.is_set():  # log() calls this on every call while the queue is long
            self._wake.set()

    def make_room(self, limit: int) -> None:
        """Wait until the queue is worked down below ``limit // 2`` (log() found ``limit`` events
        queued). A writer that makes no progress for ``_STALL`` seconds (a hung disk) is not
        waited for again until it does: logging slows down, it never stops."""
        room = self._room
        room.clear()
        if self._stalled or len(self.queue) < limit or not self._thread.is_alive():
            return
        self._room_at = limit // 2
        self._wake.set()
        if not room.wait(_STALL):
            self._stalled = True

    def summary_view(self) -> dict[str, Any]:
        return self.mirror.view()

    def barrier(self, timeout: float = 10.0) -> None:
        """Wait until everything queued before this call is applied and written."""
        if not self._thread.is_alive():
            return
        done = threading.Event()
        self.queue.append(ev.Barrier(done))
        self._wake.set()
        done.wait(max(0.0, timeout))

    def close(self, timeout: float = 60.0) -> bool:
        """Drain what is queued, fsync and close the journal. False if the thread did not get
        there within ``timeout`` (the journal is then left open: the thread may still write)."""
        self._stopping = True
        self._wake.set()
        self._thread.join(max(0.0, timeout))
        if self._thread.is_alive():
            return False
        self._journal.close()
        return True

    # -- the thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                stopping = self._stopping  # read before draining: all events before close() are in
                self.drain()
                if stopping:
                    return
        except BaseException as exc:  # never expected: make finish() say so instead of claiming success
            self.failed = f"{type(exc).__name__}: {exc}"
            warn(f"trackwell: the journal writer of {self._journal.path} stopped ({self.failed}); "
                 "what is logged from now on is not recorded")
            raise

    def drain(self) -> None:
        """Apply what is queued and write it, a chunk at a time: a caller logging faster than
        this thread keeps up still gets its rows written (and its memory back) as they go."""
        self.draining = True
        q = self.queue
        try:
            while True:
                self._apply(min(len(q), _CHUNK))
                self._journal.sync_if_due()  # a quiet spell still reaches the disk within fsync_interval
                if not q:
                    return
        finally:
            self.draining = False

    def _apply(self, n: int) -> None:
        """Turn the next ``n`` queued events into records and rows, and write them."""
        parts = self._backlog
        self._backlog = []
        q, handlers, rows = self.queue, self._handlers, self._rows
        try:
            while n > 0 and q:
                event = q.popleft()
                try:
                    if type(event) is tuple:  # a log row: the hot path
                        n -= rows(event, n, parts)
                        continue
                    handlers[type(event)](event, parts)
                except Exception as exc:  # noqa: BLE001 - one bad event must not stop the writer
                    warn(f"trackwell writer skipped an event: {type(exc).__name__}: {exc}")
                n -= 1
            if parts:
                self._write(parts)
        finally:
            barriers, self._barriers = self._barriers, []
            for done in barriers:
                done.set()
            if self._room_at and len(q) < self._room_at:
                self._room_at = 0
                self._stalled = False
                self._room.set()

    def _write(self, parts: list[Part]) -> None:
        for i, part in enumerate(parts):
            try:
                if isinstance(part, tuple):
                    self._write_rows(*part)
                else:
                    self._write_records(part)
            except OSError as exc:  # disk full, etc.: keep what is not written and try again next drain
                self._backlog = parts[i:]
                if not self._write_warned:
                    self._write_warned = True
                    warn(f"trackwell: cannot write the journal {self._journal.path} ({exc}); "
                         "keeping records in memory and retrying")
                return
        if self._on_written is not None:
            self._on_written(self.seq)

    def _write_rows(self, first_seq: int, rows: list[Row]) -> None:
        try:
            self._journal.append_rows(first_seq, self._started, rows)
        except OSError:
            raise
        except Exception:  # noqa: BLE001 - an unencodable value: nothing of these rows was written
            self._write_records([self._history(first_seq + i, row) for i, row in enumerate(rows)])

    def _write_records(self, records: list[AnyRecord]) -> None:
        try:
            self._journal.append(records)
        except OSError:
            raise
        except Exception:  # noqa: BLE001 - an unencodable record: nothing of this batch was written
            self._salvage(records)
            self._journal.append(records)

    def _history(self, seq: int, row: Row) -> History:
        data, step, ts = row
        runtime = ts - self._started
        return History(seq=seq, ts=ts, step=step, runtime=runtime,
                       data={**data, "_runtime": runtime, "_timestamp": ts})

    def _salvage(self, records: list[AnyRecord]) -> None:
        """Repair the records msgpack refused, or stand a ``Skipped`` (same seq) in for them."""
        for i, record in enumerate(records):
            try:
                encode(record)
                continue
            except Exception:  # noqa: BLE001, S112 - repaired below
                pass
            try:
                if repair_record(record) and not self._repair_warned:
                    self._repair_warned = True
                    warn(f"trackwell: a {type(record).__name__} record held strings with lone surrogates, "
                         "which cannot be stored as UTF-8; they were recorded with '?' in their place")
                encode(record)
            except Exception as exc:  # noqa: BLE001 - the placeholder keeps seqs gap-free
                reason = f"the SDK could not journal this {type(record).__name__} record: {type(exc).__name__}: {exc}"
                records[i] = Skipped(seq=record.seq, ts=record.ts, reason=reason[:500])
                self.lost += 1
                warn(f"trackwell: {reason}; it is lost, and finish() will report it")

    # -- history rows ---------------------------------------------------------------------

    def _rows(self, event: ev.LogRow, n: int, parts: list[Part]) -> int:
        """The log row ``event`` and those queued right behind it, up to ``n`` events in all;
        returns how many it took. A committed row while no row is open (one call, one row: the
        common case) goes to the journal as log() queued it; the mirror's ``_step``,
        ``_runtime`` and ``_timestamp`` are set once, from the last such row."""
        q, last, modes = self.queue, self._last, self._modes
        rows: list[Row] | None = None  # the run of rows being added to
        latest: Row | None = None  # the last row taken that way: the mirror's _step/_runtime/_timestamp
        seq, taken = self.seq, 0
        try:
            while True:
                taken += 1
                if len(event) == 3 and not self._row:
                    if rows is None:
                        rows = self._rows_part(parts, seq)
                    rows.append(event)  # type: ignore[arg-type]  # (row, step, ts)
                    seq += 1
                    last.update(event[0])
                    latest = event  # type: ignore[assignment]
                    if modes:
                        self.mirror.sync_steps(event[0])
                        self._aggregate(event[0], event[1], event[-1])
                else:
                    if latest is not None:
                        self._mirror_row(latest[1], latest[2])
                        latest = None
                    self.seq, rows = seq, None
                    try:
                        if len(event) == 3:
                            self._on_log(event[0], event[1], True, event[2], parts)  # type: ignore[misc]
                        else:
                            self._on_log(*event, parts)  # type: ignore[misc]
                    finally:
                        seq = self.seq
                if taken == n or not q or type(q[0]) is not tuple:
                    return taken
                event = q.popleft()  # type: ignore[assignment]  # a tuple: checked just above
        finally:
            self.seq = seq
            if latest is not None:
                self._mirror_row(latest[1], latest[2])

    def _on_log(self, row: dict[str, Any], step: int, commit: bool, ts: float, parts: list[Part]) -> None:
        if self._row and step != self._row_step:
            self._emit(parts)  # a higher step arrived: the open row is done
        self._row_step = step
        self._row.update(row)
        self._row_ts = ts
        if commit and self._row:
            self._emit(parts)

    def _emit(self, parts: list[Part]) -> None:
        data, step, ts = self._row, self._row_step, self._row_ts
        self._row = {}
        self._last.update(data)
        self._mirror_row(step, ts)
        if self._modes:
            self.mirror.sync_steps(data)
            self._aggregate(data, step, ts)
        self._rows_part(parts, self.seq).append((data, step, ts))
        self.seq += 1

    def _mirror_row(self, step: int, ts: float) -> None:
        last = self._last
        last["_step"] = step
        last["_runtime"] = ts - self._started
        last["_timestamp"] = ts

    def _aggregate(self, data: dict[str, Any], step: int, ts: float) -> None:
        self.mirror.aggregate({**data, "_runtime": ts - self._started, "_timestamp": ts}, step)

    @staticmethod
    def _rows_part(parts: list[Part], seq: int) -> list[Row]:
        """The run of rows ``parts`` ends with, or a new one starting after ``seq``."""
        if parts and type(parts[-1]) is tuple:
            return parts[-1][1]
        rows: list[Row] = []
        parts.append((seq + 1, rows))
        return rows

    def _add(self, parts: list[Part], record: Record) -> None:
        """Number ``record`` (records are numbered as they are made, in order: a skipped event
        never takes a seq) and add it to what this drain writes."""
        self.seq += 1
        record.seq = self.seq
        if parts and type(parts[-1]) is list:
            parts[-1].append(record)  # type: ignore[arg-type]
        else:
            parts.append([record])  # type: ignore[list-item]

    # -- everything else ------------------------------------------------------------------

    def _on_commit(self, _event: ev.Commit, parts: list[Part]) -> None:
        if self._row:
            self._emit(parts)

    def _on_config(self, event: ev.ConfigChange, parts: list[Part]) -> None:
        self._add(parts, ConfigUpdate(seq=0, ts=event.ts, data=event.data))

    def _on_summary(self, event: ev.SummaryChange, parts: list[Part]) -> None:
        self.mirror.assign(event.update, event.remove)
        self._add(parts, SummaryUpdate(seq=0, ts=event.ts, update=event.update, remove=event.remove))

    def _on_metric(self, event: ev.MetricDefinition, parts: list[Part]) -> None:
        self.mirror.define(event.name, {"summary": event.summary, "goal": event.goal},
                           event.step_metric if event.step_sync else None)
        self._add(parts, DefineMetric(seq=0, **msgspec.structs.asdict(event)))  # the same fields

    def _on_fields(self, event: ev.FieldsChange, parts: list[Part]) -> None:
        self._add(parts, RunUpdate(seq=0, ts=event.ts, **event.fields))

    def _on_console(self, event: ev.ConsoleLines, parts: list[Part]) -> None:
        self._add(parts, Console(seq=0, ts=event.ts, stream=event.stream, lines=event.lines))

    def _on_exit(self, event: ev.Exited, parts: list[Part]) -> None:
        self._add(parts, Exit(seq=0, ts=event.ts, exit_code=event.code, runtime=event.ts - self._started))

    def _on_preempting(self, event: ev.PreemptingNow, parts: list[Part]) -> None:
        self._add(parts, Preempting(seq=0, ts=event.ts))

    def _on_prebuilt(self, event: ev.Prebuilt, parts: list[Part]) -> None:
        self._add(parts, event.record)

    def _on_barrier(self, event: ev.Barrier, _parts: list[Part]) -> None:
        self._barriers.append(event.done)

