"""The writer thread: turns queued calls into numbered records, one journal write per drain.

``log()`` only appends ``(row, step, commit, ts)`` to a deque; everything costly (row merging,
record building, msgpack, the disk write, the summary mirror) happens here, at least every
``flush_interval`` seconds, so a ``kill -9`` loses at most that much logging.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    History,
    Preempting,
    SummaryUpdate,
)
from trackwell.sdk.errors import warn
from trackwell.sdk.journal import JournalWriter

_INT64_MIN, _UINT64_END = -(2**63), 2**64


def _widen_big_ints(records: list[AnyRecord]) -> None:
    for record in records:
        if isinstance(record, History):
            for key, value in record.data.items():
                if type(value) is int and not _INT64_MIN <= value < _UINT64_END:
                    record.data[key] = float(value)


class Writer:
    """Owns the JournalWriter after RunStart; one thread, started by ``start()``."""

    def __init__(self, journal: JournalWriter, *, last_seq: int, started: float,
                 interval: float, on_written: Callable[[int], None] | None = None,
                 summary_seed: dict[str, Any] | None = None) -> None:
        self.queue: deque[tuple[Any, ...]] = deque()
        self.seq = last_seq  # last seq handed out (and, after a drain, written)
        self.draining = False
        self._journal = journal
        self._started = started
        self._interval = interval
        self._on_written = on_written
        self._wake = threading.Event()
        self._stopping = False
        self._backlog: list[AnyRecord] = []  # records a failed write must not lose
        self._write_warned = False
        # history row being built (commit=False / step= merging)
        self._row: dict[str, Any] = {}
        self._row_step = 0
        self._row_ts = 0.0
        # Summary mirror, kept cheap per row: the last value of every key (one C-level
        # dict.update), stats only for keys with a min/max/mean mode; summary_view() combines.
        self._last: dict[str, Any] = {}
        self._explicit: dict[str, Any] = {}  # run.summary assignments: pinned
        self._removed: set[str] = set()  # del run.summary[key]: pinned away
        self._modes: dict[str, str] = {}  # define_metric name or glob -> mode
        self._mode_of: dict[str, str] = {}  # resolved per key (cache)
        self._stats: dict[str, list[float]] = {}  # key -> [min, max, sum, count]
        self._seed = dict(summary_seed or {})  # a resumed run's summary as the server had it
        self._thread = threading.Thread(target=self._loop, name="trackwell-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def barrier(self, timeout: float = 10.0) -> None:
        """Wait until everything queued before this call is applied and written."""
        if not self._thread.is_alive():
            return
        done = threading.Event()
        self.queue.append(("barrier", done))
        self._wake.set()
        done.wait(timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Drain what is queued, fsync and close the journal."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._journal.close()

    # -- the thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            stopping = self._stopping  # read before draining: all events before close() are in
            self.drain()
            if stopping:
                return

    def drain(self) -> None:
        self.draining = True
        records, barriers = self._backlog, []
        self._backlog = []
        q = self.queue
        try:
            while q:
                ev = q.popleft()
                try:
                    if type(ev[0]) is dict:
                        self._on_log(ev[0], ev[1], ev[2], ev[3], records)
                    elif ev[0] == "barrier":
                        barriers.append(ev[1])
                    else:
                        self._on_event(ev, records)
                except Exception as exc:  # noqa: BLE001 - one bad event must not stop the writer
                    warn(f"trackwell writer skipped an event: {type(exc).__name__}: {exc}")
            if records:
                self._write(records)
        finally:
            self.draining = False
            for done in barriers:
                done.set()

    def _write(self, records: list[AnyRecord]) -> None:
        for record in records:
            if not record.seq:  # numbered only now, so a skipped event never leaves a gap
                self.seq += 1
                record.seq = self.seq
        try:
            try:
                self._journal.append(records)
            except OverflowError:  # an int past 64 bits: msgpack cannot hold it, a float can
                _widen_big_ints(records)
                self._journal.append(records)
        except OSError as exc:  # disk full, etc.: keep the records and try again next drain
            self._backlog = records
            if not self._write_warned:
                self._write_warned = True
                warn(f"trackwell: cannot write the journal {self._journal.path} ({exc}); "
                              "keeping records in memory and retrying")
            return
        if self._on_written is not None:
            self._on_written(records[-1].seq)

    # -- history rows ---------------------------------------------------------------------

    def _on_log(self, row: dict[str, Any], step: int, commit: bool, ts: float,
                records: list[AnyRecord]) -> None:
        if self._row and step != self._row_step:
            self._emit(records)  # a higher step arrived: the open row is done
        self._row_step = step
        self._row.update(row)
        self._row_ts = ts
        if commit and self._row:
            self._emit(records)

    def _emit(self, records: list[AnyRecord]) -> None:
        data, ts = self._row, self._row_ts
        self._row = {}
        runtime = ts - self._started
        data["_runtime"] = runtime
        data["_timestamp"] = ts
        last = self._last
        last.update(data)
        last["_step"] = self._row_step
        if self._modes:
            self._aggregate_row(data)
        records.append(History(seq=0, ts=ts, step=self._row_step, runtime=runtime, data=data))

    def _aggregate_row(self, data: dict[str, Any]) -> None:
        mode_of = self._mode_of
        for key, value in data.items():
            mode = mode_of.get(key) or self._resolve_mode(key)
            if mode in ("min", "max", "mean") and type(value) in (int, float):
                # as on the server: min/max skip NaN, mean includes it (NaN in, NaN mean)
                s = self._stats.get(key)
                if s is None:
                    s = self._stats[key] = [math.inf, -math.inf, 0.0, 0]
                if value == value:
                    s[0], s[1] = min(s[0], value), max(s[1], value)
                s[2], s[3] = s[2] + value, s[3] + 1

    def summary_view(self) -> dict[str, Any]:
        """The run's summary as the script sees it (the server computes the same at ingest)."""
        view = {k: v for k, v in self._seed.items() if k not in self._removed}
        for key, value in self._last.items():
            if key in self._explicit or key in self._removed:
                continue
            mode = self._mode_of.get(key) or self._resolve_mode(key)
            if mode == "last":
                view[key] = value
            elif mode != "none":
                s = self._stats.get(key)  # no stats: only non-numbers/NaN were logged
                view[key] = value if s is None else {"min": s[0], "max": s[1], "mean": s[2] / s[3]}[mode]
        view.update(self._explicit)
        return view

    def _resolve_mode(self, key: str) -> str:
        mode = self._modes.get(key)
        if mode is None:
            mode = next((m for pattern, m in self._modes.items()
                         if "*" in pattern and fnmatchcase(key, pattern)), "last")
        self._mode_of[key] = mode
        return mode

    # -- everything else ------------------------------------------------------------------

    def _on_event(self, ev: tuple[Any, ...], records: list[AnyRecord]) -> None:
        kind = ev[0]
        if kind == "commit":
            if self._row:
                self._emit(records)
        elif kind == "config":
            records.append(ConfigUpdate(seq=0, ts=ev[2], data=ev[1]))
        elif kind == "summary":
            update, remove = ev[1], ev[2]
            self._explicit.update(update)
            self._removed.difference_update(update)
            for key in remove:
                self._explicit.pop(key, None)
                self._removed.add(key)
            records.append(SummaryUpdate(seq=0, ts=ev[3], update=update, remove=remove))
        elif kind == "metric":
            name, mode, step_metric = ev[1], ev[2], ev[3]
            if mode is not None:
                self._modes[name] = mode
                self._mode_of.clear()
            records.append(DefineMetric(seq=0, ts=ev[4], name=name, summary=mode,
                                        step_metric=step_metric))
        elif kind == "console":
            records.append(Console(seq=0, ts=ev[3], stream=ev[1], lines=ev[2]))
        elif kind == "exit":
            records.append(Exit(seq=0, ts=ev[2], exit_code=ev[1], runtime=ev[2] - self._started))
        elif kind == "preempting":
            records.append(Preempting(seq=0, ts=ev[1]))
        else:  # pragma: no cover - a programming error in the SDK
            raise ValueError(f"unknown writer event {kind!r}")
