"""Projecting the ingest log into the stores, each with its own checkpoint.

The log (``ingest_log``) holds what the server acknowledged. For each entry, in log order, the
metric store appends the points past its writer mark (points + mark in one DuckDB transaction),
then the metadata database applies the records past its mark and deletes the entry (one
transaction). A crash anywhere leaves the entry in the log and the marks where they were, so a
restarted server finishes the job without the client. A store that refuses an entry for a
reason retrying cannot fix (a data error, after a few attempts) gets it quarantined: kept in
``ingest_quarantine`` with the error, the store's mark moved past it, an ``ingest_quarantined``
event: one bad record never stalls its run.

Per writer the records are transformed before the stores see them: an offline resume's step and
runtime offsets (resolved here, when the entry is first projected: everything logged before it is
in the stores by then) and, for a shared run's secondary writers, keys under their label.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import msgspec

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Exit,
    History,
    RunMetadata,
    RunStart,
    Skipped,
    SystemSample,
)
from trackwell.schema.blocks import expand, since
from trackwell.schema.summary import KeyStats
from trackwell.server.points import batch_stats, build_points
from trackwell.store.metadata import IngestLogStore, LogEntry, RunStore, WriterRow
from trackwell.store.metrics import Append, MetricStore, PointBatch

log = logging.getLogger("trackwell.server.projector")

_NUMBER_TYPES = {float, int}
_MAX_ATTEMPTS = 3
_records = msgspec.msgpack.Decoder(list[AnyRecord])  # type: ignore[valid-type]


def shifted(records: Sequence[AnyRecord], step_offset: int, runtime_offset: float) -> list[AnyRecord]:
    """Records of a resumed offline writer, moved to continue after the run's history."""
    out: list[AnyRecord] = []
    for rec in expand(records):
        if type(rec) is History:
            data = rec.data
            if "_runtime" in data and type(data["_runtime"]) in _NUMBER_TYPES:
                data = {**data, "_runtime": data["_runtime"] + runtime_offset}
            rec = msgspec.structs.replace(rec, step=rec.step + step_offset, runtime=rec.runtime + runtime_offset,
                                          data=data)
        elif type(rec) is Exit or type(rec) is SystemSample:
            rec = msgspec.structs.replace(rec, runtime=rec.runtime + runtime_offset)
        out.append(rec)
    return out


def as_secondary(records: Sequence[AnyRecord], label: str) -> list[AnyRecord]:
    """A shared run's secondary writer: its history under ``<label>/`` (so no (key, step) is
    written by two writers), its config merged, its start and exit not the run's, its system
    metrics under ``system/<label>/`` and its metadata under ``writers/<label>``."""
    prefix = label + "/"
    out: list[AnyRecord] = []
    for rec in expand(records):
        if type(rec) is History:
            rec = msgspec.structs.replace(rec, data={k if k.startswith(prefix) else prefix + k: v
                                                     for k, v in rec.data.items()})
        elif type(rec) is RunStart:
            rec = ConfigUpdate(seq=rec.seq, ts=rec.ts, data=rec.config)
        elif type(rec) is Exit:
            rec = Skipped(seq=rec.seq, ts=rec.ts, reason=f"exit {rec.exit_code} of shared writer {label}")
        elif type(rec) is SystemSample:  # its own machine's series: system/<label>/...
            rec = msgspec.structs.replace(rec, data={f"system/{label}/{k[7:]}": v for k, v in rec.data.items()})
        elif type(rec) is RunMetadata:
            rec = msgspec.structs.replace(rec, data={f"writers/{label}": rec.data})
        out.append(rec)
    return out


def continuation(runs: RunStore, metrics: MetricStore, pk: int, entity: str, project: str,
                 run_id: str) -> tuple[int | None, int]:
    """The run's last visible step and the step a resuming writer starts at (a fork without
    history of its own continues after its branch step)."""
    found = runs.lineage(entity, project, run_id)
    segments = found[1] if found is not None else [(pk, None)]
    last = metrics.last_step(segments)
    run = runs.get_run(entity, project, run_id) or {}
    fork = run.get("forked_from")
    nxt = 0 if last is None else last + 1
    if fork is not None:
        nxt = max(nxt, int(fork["step"]) + 1)
    return last, nxt


Fresh = tuple[str, int, list[AnyRecord]]  # (writer, first seq, records) just accepted
_ENTRIES_PER_PASS = 64
_GROUP_ROWS = 200_000  # at most this many seqs projected in one transaction


def _runs_of(entries: list[LogEntry]) -> list[list[LogEntry]]:
    """Consecutive entries of one writer whose seqs follow on, up to ``_GROUP_ROWS`` seqs each."""
    groups: list[list[LogEntry]] = []
    for entry in entries:
        last = groups[-1][-1] if groups else None
        if last is not None and last.writer == entry.writer and entry.first_seq == last.last_seq + 1 \
                and entry.last_seq - groups[-1][0].first_seq < _GROUP_ROWS:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


class ConcurrentMarks(RuntimeError):
    """A writer's metric-store mark moved under every attempt: the entries stay in the log."""


_MARK_RACES = 3


class _Refused(Exception):
    """A store failed projecting an entry; the error is the ``__cause__``."""

    def __init__(self, store: str) -> None:
        super().__init__(store)
        self.store = store


def _deterministic(exc: BaseException) -> bool:
    """Errors a retry cannot fix (the data itself is refused), as opposed to a store that is down."""
    import duckdb
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, sa_exc.OperationalError | duckdb.IOException | MemoryError):
        return False
    return isinstance(exc, sa_exc.DBAPIError | duckdb.Error | ValueError | TypeError | OverflowError
                      | UnicodeError | msgspec.MsgspecError)


class Projector:
    """Brings the stores up to the ingest log of a run. Callers hold the run's ingest lock."""

    def __init__(self, runs: RunStore, log: IngestLogStore, metrics: MetricStore) -> None:
        self._runs, self._log, self._metrics = runs, log, metrics
        self._one_by_one: set[int] = set()  # runs whose last catch-up failed: projected alone next

    def settle(self, run_pk: int, entity: str, project: str, run_id: str, fresh: Fresh | None = None) -> int:
        """``project``, a failure logged instead of raised (the records are in the log: the
        background catch-up retries them); -1 then."""
        try:
            return self.project(run_pk, entity, project, run_id, fresh)
        except Exception:
            log.exception("projecting run %s/%s/%s failed; it stays in the ingest log and is retried",
                          entity, project, run_id)
            return -1

    def project(self, run_pk: int, entity: str, project: str, run_id: str, fresh: Fresh | None = None) -> int:
        """Project every entry of the run that can be; returns how many are still waiting.

        ``fresh``: the records just accepted, as (writer, first seq, records), so the request that
        accepted them does not read back and decode what it has in memory."""
        blocked: set[str] = set()  # writers waiting for an earlier process's records
        while True:
            entries = self._log.log_entries(run_pk, _ENTRIES_PER_PASS)
            todo = [e for e in entries if e.writer not in blocked]
            if not todo:
                return len(entries)
            writers = self._log.writers(run_pk)
            progressed = False
            for group in _runs_of(todo):
                writer = group[0].writer
                if writer in blocked:
                    continue
                w = writers[writer]
                if w.waiting and not self._predecessors_done(w, writers):
                    blocked.add(writer)
                    continue
                if w.waiting and w.parent is not None:  # resends its parent's records: its offsets
                    parent = writers[w.parent]
                    self._log.set_offsets(run_pk, w.writer, parent.step_offset, parent.runtime_offset)
                    w = dataclasses.replace(w, waiting=False, step_offset=parent.step_offset,
                                            runtime_offset=parent.runtime_offset)
                elif w.waiting:
                    w = self._resolve(run_pk, w, continuation(self._runs, self._metrics, run_pk, entity, project,
                                                              run_id))
                    writers[w.writer] = w
                self._project_group(run_pk, w, group, fresh)
                # the database's mark moved past the entries (our lock: no one else moves it meanwhile)
                writers[writer] = dataclasses.replace(w, applied_seq=max(w.applied_seq, group[-1].last_seq))
                progressed = True
            if not progressed:
                return len(entries)
            if not blocked and len(entries) < _ENTRIES_PER_PASS:
                return 0  # everything was projected and no writer waits on another: no second look

    def _project_group(self, run_pk: int, w: WriterRow, group: list[LogEntry], fresh: Fresh | None) -> None:
        """Consecutive entries of one writer (a busy server defers projection, so entries pile up)
        go to each store in one transaction; if that fails, one by one (attempts, quarantine)."""
        def cached(entry: LogEntry) -> list[AnyRecord] | None:
            return fresh[2] if fresh is not None and fresh[:2] == (entry.writer, entry.first_seq) else None

        if len(group) > 1:
            try:
                records: list[AnyRecord] = []
                for entry in group:
                    found = cached(entry)
                    records.extend(found if found is not None else _records.decode(self._log.log_body(entry.id)))
                self._apply(run_pk, w, [e.id for e in group], group[-1].last_seq, records)
                return
            except Exception:
                log.warning("projecting %d entries of writer %s of run %d together failed; one by one now",
                            len(group), w.writer, run_pk, exc_info=True)
        for entry in group:
            self._project_entry(run_pk, w, entry, cached(entry))
            w = dataclasses.replace(w, applied_seq=max(w.applied_seq, entry.last_seq))

    @staticmethod
    def _predecessors_done(w: WriterRow, writers: dict[str, WriterRow]) -> bool:
        for writer, seq in w.after.items():
            p = writers.get(writer)
            if p is None or p.applied_seq < seq:
                return False
        return True

    def _resolve(self, run_pk: int, w: WriterRow, cont: tuple[int | None, int]) -> WriterRow:
        """An offline resume's offsets, now that everything before it is in the stores."""
        _, next_step = cont
        run = self._runs.run_by_pk(run_pk)
        step_offset = next_step if next_step > 0 else 0
        runtime_offset = float(run["runtime"] or 0.0) if step_offset else 0.0
        self._log.set_offsets(run_pk, w.writer, step_offset, runtime_offset)
        return dataclasses.replace(w, waiting=False, step_offset=step_offset, runtime_offset=runtime_offset)

    def _project_entry(self, run_pk: int, w: WriterRow, entry: LogEntry, records: list[AnyRecord] | None) -> None:
        if records is None:
            records = _records.decode(self._log.log_body(entry.id))
        try:
            self._apply(run_pk, w, [entry.id], entry.last_seq, records)
        except _Refused as refused:
            exc = refused.__cause__
            assert exc is not None
            if not _deterministic(exc) or entry.attempts + 1 < _MAX_ATTEMPTS:
                self._log.count_attempt(entry.id)
                raise exc from None
            log.error("quarantining records %d-%d of writer %s of run %d: the %s store refused them (%s)",
                      entry.first_seq, entry.last_seq, w.writer, run_pk, refused.store, exc)
            if refused.store == "metrics":
                self._metrics.append(run_pk, w.writer, entry.last_seq, PointBatch.empty(),
                                    self._metrics.applied(run_pk, w.writer))
            self._log.quarantine_entry(run_pk, w.writer, entry, refused.store, f"{type(exc).__name__}: {exc}",
                                       time.time())

    def _apply(self, run_pk: int, w: WriterRow, entry_ids: list[int], last_seq: int,
               records: list[AnyRecord]) -> None:
        """The records of log entries ``entry_ids`` (up to ``last_seq``) into the metric store, then
        the metadata database (which drops the entries); a failure is raised as ``_Refused``
        naming the store at work, the error as its cause."""
        try:
            sql_pending, stats, others_last = self._to_metrics(run_pk, w, last_seq, records)
        except Exception as exc:
            raise _Refused("metrics") from exc
        try:
            self._log.apply_entry(run_pk, w.writer, entry_ids, sql_pending, stats, others_last, w.applied_seq)
        except Exception as exc:
            raise _Refused("metadata") from exc

    def _to_metrics(self, run_pk: int, w: WriterRow, last_seq: int, records: list[AnyRecord]
                    ) -> tuple[list[AnyRecord], dict[str, KeyStats], dict[str, tuple[int, Any]]]:
        """Append the points past the metric store's mark; returns what the metadata database
        still needs: the records past its mark and their statistics."""
        for _ in range(_MARK_RACES):
            ready = self._prepare(run_pk, w, last_seq, records)
            a = ready.append
            if a is None or self._metrics.append(a.run_pk, a.writer, a.seq, a.points, a.expected_mark):
                return ready.sql_pending, ready.stats, ready.others_last
            # A catch-up pass moved the mark meanwhile (it appends outside the run's lock): the
            # metadata must not go past what the metric store has, so look again from its mark.
        raise ConcurrentMarks(f"the metric store's mark of writer {w.writer} of run {run_pk} kept moving")

    def _prepare(self, run_pk: int, w: WriterRow, last_seq: int, records: list[AnyRecord]) -> _Ready:
        """What the stores are to get, computed without writing anything."""
        metric = self._metrics.mark(run_pk, w.writer)
        offsets = (w.step_offset, w.runtime_offset)
        if offsets == (0, 0.0):  # a writer resumed before the ingest log kept its offsets in DuckDB
            offsets = (metric.step_offset, metric.runtime_offset)
        if offsets != (0, 0.0):
            records = shifted(records, *offsets)
        if w.shared and not w.is_primary and w.label:
            records = as_secondary(records, w.label)
        if w.parent is not None:  # a dead-letter retry: a late RunStart is config, not a restart
            records = [ConfigUpdate(seq=r.seq, ts=r.ts, data=r.config) if type(r) is RunStart else r
                       for r in records]
        sql_mark = w.applied_seq  # read with the writers, under the run's lock
        sql_pending = since(records, sql_mark + 1)
        sql_points = build_points(sql_pending) if sql_pending else PointBatch.empty()
        append = None
        if last_seq > metric.applied:
            points = sql_points if metric.applied == sql_mark else build_points(since(records, metric.applied + 1))
            append = Append(run_pk, w.writer, last_seq, points, metric.applied)
        stats, others_last = batch_stats(sql_points) if sql_pending else ({}, {})
        return _Ready(append, sql_pending, stats, others_last)

    # -- many runs at once (the catch-up task) -------------------------------------------------

    def catch_up(self, runs: Sequence[tuple[int, str, str, str]], lock: RunLock) -> int:
        """Project the entries of ``runs``: the plain ones (a writer's consecutive entries, no
        resume or shared-run rewriting pending) with every run's points in one metric-store
        transaction, then each run's metadata; anything else, and a run whose plain projection
        failed last time, the usual way (``settle``: attempts, quarantine). Returns how many
        entries still wait."""
        waiting = 0
        staged: list[_Staged] = []
        for pk, entity, project, run_id in runs:
            with lock(entity, project, run_id):
                if pk not in self._one_by_one:
                    try:
                        found = self._stage(pk, (entity, project, run_id))
                    except Exception:
                        log.warning("staging run %d for a catch-up pass failed; projecting it alone", pk,
                                    exc_info=True)
                        found = None
                    if found is not None:
                        staged.extend(found)
                        continue
                left = self.settle(pk, entity, project, run_id)
                if left == 0:  # caught up: plain passes may take it again
                    self._one_by_one.discard(pk)
                waiting += max(left, 0)
        if staged:
            self._flush(staged, lock)
        return waiting

    def _stage(self, run_pk: int, path: tuple[str, str, str]) -> list[_Staged] | None:
        """The run's entries ready for the stores, or None if they need the one-run path."""
        entries = self._log.log_entries(run_pk, _ENTRIES_PER_PASS)
        writers = self._log.writers(run_pk)
        groups = _runs_of(entries)
        if len(entries) >= _ENTRIES_PER_PASS or len({g[0].writer for g in groups}) != len(groups):
            return None
        staged = []
        for group in groups:
            w = writers[group[0].writer]
            if w.waiting or w.parent is not None or (w.shared and not w.is_primary) \
                    or (w.step_offset, w.runtime_offset) != (0, 0.0):
                return None
            metric = self._metrics.mark(run_pk, w.writer)
            if (metric.step_offset, metric.runtime_offset) != (0, 0.0):
                return None
            records: list[AnyRecord] = []
            for entry in group:
                records.extend(_records.decode(self._log.log_body(entry.id)))
            ready = self._prepare(run_pk, w, group[-1].last_seq, records)
            staged.append(_Staged(run_pk, path, w.writer, [e.id for e in group], w.applied_seq, ready))
        return staged

    def _flush(self, staged: list[_Staged], lock: RunLock) -> None:
        appends = [s.ready.append for s in staged if s.ready.append is not None]
        try:
            done = iter(self._metrics.append_many(appends))
        except Exception:
            log.warning("a catch-up pass over %d runs failed in the metric store; each alone next pass",
                        len({s.run_pk for s in staged}), exc_info=True)
            self._one_by_one.update(s.run_pk for s in staged)
            return
        for s in staged:
            if s.ready.append is not None and not next(done):
                continue  # its mark moved meanwhile (a request projected it): the next pass sees
            with lock(*s.path):
                try:
                    self._log.apply_entry(s.run_pk, s.writer, s.entry_ids, s.ready.sql_pending, s.ready.stats,
                                          s.ready.others_last, s.sql_mark)
                except Exception:
                    log.warning("a catch-up pass could not apply run %d's records; alone next pass", s.run_pk,
                                exc_info=True)
                    self._one_by_one.add(s.run_pk)


RunLock = Callable[[str, str, str], AbstractContextManager[Any]]


@dataclasses.dataclass
class _Ready:
    """What the stores are to get from some log entries: ``append`` None if the metric store
    has their points already."""

    append: Append | None
    sql_pending: list[AnyRecord]
    stats: dict[str, KeyStats]
    others_last: dict[str, tuple[int, Any]]


@dataclasses.dataclass
class _Staged:
    run_pk: int
    path: tuple[str, str, str]
    writer: str
    entry_ids: list[int]
    sql_mark: int
    ready: _Ready
