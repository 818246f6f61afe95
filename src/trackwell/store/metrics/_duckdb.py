"""DuckDB metric store: numeric points in narrow tables, keys in a global dictionary.

One connection per process: writes take turns on it under a lock; reads use ``cursor()``
(a separate connection to the same database), so charts never wait for ingest. Points are
appended to ``points`` and moved, sorted by (run, key, step), into deeper levels in the
background (``_layout``); reads (``_reads``) go through the ``points_all`` view over every level.

A rewind moves a run's points past the rewind step into ``hidden_*`` tables (kept for audit), so
reads never filter them out. A fork reads its ancestors' points up to the branch step in place.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from trackwell.store.metrics import _layout
from trackwell.store.metrics._base import (
    Append,
    MetricStore,
    PointBatch,
    WriterMark,
)
from trackwell.store.metrics._reads import DuckDBReads

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_keys (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS points (run_pk INTEGER, key_id INTEGER, step BIGINT, value DOUBLE);
CREATE TABLE IF NOT EXISTS other_values (run_pk INTEGER, key_id INTEGER, step BIGINT, value VARCHAR);
CREATE TABLE IF NOT EXISTS writer_marks (
    run_pk INTEGER, writer VARCHAR, applied_seq BIGINT, PRIMARY KEY (run_pk, writer));
ALTER TABLE writer_marks ADD COLUMN IF NOT EXISTS step_offset BIGINT DEFAULT 0;
ALTER TABLE writer_marks ADD COLUMN IF NOT EXISTS runtime_offset DOUBLE DEFAULT 0;
CREATE TABLE IF NOT EXISTS hidden_points (
    run_pk INTEGER, key_id INTEGER, step BIGINT, value DOUBLE, hidden_at DOUBLE);
CREATE TABLE IF NOT EXISTS hidden_other_values (
    run_pk INTEGER, key_id INTEGER, step BIGINT, value VARCHAR, hidden_at DOUBLE);
"""


class DuckDBMetricStore(DuckDBReads, MetricStore):
    """``recent_rows`` and ``fanout`` size the levels points are compacted through (``_layout``)."""

    def __init__(self, path: str | Path, recent_rows: int = _layout.RECENT_ROWS, fanout: int = _layout.FANOUT) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(path))
        self._con.execute(_SCHEMA + _layout.SCHEMA)
        self._lock = threading.Lock()
        self._move_lock = threading.Lock()  # a rewind and the end of a compaction move take turns
        self._ids: dict[str, int] = dict(self._con.execute("SELECT name, id FROM metric_keys").fetchall())
        self._names: dict[int, str] = {i: n for n, i in self._ids.items()}
        self._marks: dict[tuple[int, str], WriterMark] = {}  # as stored (a row or none), read through
        self._deleted: set[int] = set()  # runs deleted while this process runs: appends staged before are refused
        self._compactor = _layout.Compactor(self._con.cursor, self._move_lock, recent_rows, fanout)

    def close(self) -> None:
        self._compactor.close()
        with self._lock:
            self._con.close()

    def compact(self) -> None:
        """Move every level's points down now, sorted (the background does it as levels fill)."""
        self._compactor.compact()

    def wait_compacted(self, timeout: float | None = None) -> bool:
        """Wait for background compaction in progress or due; True if it finished in ``timeout``."""
        return self._compactor.wait(timeout)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    # -- writes ---------------------------------------------------------------------------

    def applied(self, run_pk: int, writer: str) -> int:
        return self.mark(run_pk, writer).applied

    def mark(self, run_pk: int, writer: str) -> WriterMark:
        found = self._marks.get((run_pk, writer))
        if found is not None:
            return found
        with self._reader() as con:  # not cached here: an append may commit between read and store
            return self._read_mark(con, run_pk, writer)

    @staticmethod
    def _read_mark(con: duckdb.DuckDBPyConnection, run_pk: int, writer: str) -> WriterMark:
        row = con.execute("SELECT applied_seq, step_offset, runtime_offset FROM writer_marks "
                          "WHERE run_pk = ? AND writer = ?", [run_pk, writer]).fetchone()
        return WriterMark(int(row[0]), int(row[1] or 0), float(row[2] or 0.0)) if row else WriterMark()

    def _load_mark(self, con: duckdb.DuckDBPyConnection, run_pk: int, writer: str) -> WriterMark:
        """The mark as stored, cached; only under the write lock, so no append commits meanwhile."""
        mark = self._marks[(run_pk, writer)] = self._read_mark(con, run_pk, writer)
        return mark

    def writers(self, run_pk: int) -> list[str]:
        with self._reader() as con:
            rows = con.execute("SELECT writer FROM writer_marks WHERE run_pk = ?", [run_pk]).fetchall()
        return [w for (w,) in rows]

    def append(self, run_pk: int, writer: str, seq: int, points: PointBatch, expected_mark: int,
               offsets: tuple[int, float] = (0, 0.0)) -> bool:
        return self.append_many([Append(run_pk, writer, seq, points, expected_mark, offsets)])[0]

    def append_many(self, items: Sequence[Append]) -> list[bool]:
        """Every item whose mark is as expected, in one transaction: the marks (compared in memory:
        this process is DuckDB's only writer and every mark change comes through here, under the
        lock), the keys, the points."""
        with self._lock:
            con = self._con
            moved: dict[tuple[int, str], WriterMark] = {}
            done: list[bool] = []
            for item in items:
                if item.run_pk in self._deleted:
                    done.append(False)
                    continue
                key = (item.run_pk, item.writer)
                current = moved.get(key) or self._marks.get(key) or self._load_mark(con, *key)
                ok = current.applied == item.expected_mark
                done.append(ok)
                if ok:  # a new mark takes the item's offsets; an existing one keeps its own
                    step_offset, runtime_offset = item.offsets if current.applied == 0 else \
                        (current.step_offset, current.runtime_offset)
                    moved[key] = WriterMark(item.seq, step_offset, runtime_offset)
            kept = [item for item, ok in zip(items, done, strict=True) if ok]
            if not kept:
                return done
            con.begin()
            try:
                self._insert(con, "writer_marks", {
                    "run_pk": np.array([k[0] for k in moved], np.int32),
                    "writer": np.array([k[1] for k in moved], dtype=object),
                    "applied_seq": np.array([m.applied for m in moved.values()], np.int64),
                    "step_offset": np.array([m.step_offset for m in moved.values()], np.int64),
                    "runtime_offset": np.array([m.runtime_offset for m in moved.values()], np.float64)},
                    "run_pk, writer, applied_seq, step_offset, runtime_offset", verb="INSERT OR REPLACE")
                new_ids = self._insert_keys(con, kept)
                ids = {**self._ids, **new_ids}
                count = self._insert_points(con, kept, ids)
                con.commit()
            except BaseException:
                con.rollback()
                raise
            # Only what committed enters the in-memory dictionaries.
            self._marks.update(moved)
            self._ids.update(new_ids)
            self._names.update({i: n for n, i in new_ids.items()})
        self._compactor.poke(count)
        return done

    def _insert_points(self, con: duckdb.DuckDBPyConnection, items: list[Append], ids: dict[str, int]) -> int:
        """Every item's points in one INSERT (and its non-numeric values in another)."""
        run_col, key_col, steps, values = [], [], [], []
        others: list[tuple[int, int, int, str]] = []
        for item in items:
            points = item.points
            n = len(points.values)
            if n:
                mapping = np.array([ids[k] for k in points.keys], dtype=np.int32)
                run_col.append(np.full(n, item.run_pk, np.int32))
                key_col.append(mapping[points.key_idx])
                steps.append(points.steps)
                values.append(points.values)
            others.extend((item.run_pk, ids[k], step, json.dumps(v)) for k, step, v in points.others)
        if run_col:
            # DuckDB's numpy scan reads NaN as NULL; points never hold NULL, so undo that.
            self._insert(con, "points", {"run_pk": np.concatenate(run_col), "key_id": np.concatenate(key_col),
                                         "step": np.concatenate(steps), "value": np.concatenate(values)},
                         "run_pk, key_id, step, coalesce(value, 'NaN'::DOUBLE)")
        if others:
            runs, keys, other_steps, texts = zip(*others, strict=True)
            self._insert(con, "other_values", {"run_pk": np.array(runs, np.int32), "key_id": np.array(keys, np.int32),
                                               "step": np.array(other_steps, np.int64),
                                               "value": np.array(texts, dtype=object)},
                         "run_pk, key_id, step, value")
        return sum(len(c) for c in run_col)

    def _insert_keys(self, con: duckdb.DuckDBPyConnection, items: list[Append]) -> dict[str, int]:
        names: set[str] = set()
        for item in items:
            names.update(item.points.keys)
            names.update(k for k, _, _ in item.points.others)
        new = sorted(n for n in names if n not in self._ids)
        if not new:
            return {}
        start = max(self._ids.values(), default=0) + 1
        new_ids = {name: start + i for i, name in enumerate(new)}
        # One INSERT ... SELECT over registered columns: executemany is one round trip per key
        # (300k new keys took 41 s under the write lock).
        self._insert(con, "metric_keys", {"id": np.arange(start, start + len(new), dtype=np.int32),
                                          "name": np.array(new, dtype=object)}, "id, name")
        return new_ids

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, Any], select: str,
                verb: str = "INSERT") -> None:
        # Registering numpy columns lets DuckDB scan them directly: no per-row Python work.
        con.register("_incoming", columns)
        try:
            con.execute(f"{verb} INTO {table} SELECT {select} FROM _incoming")
        finally:
            con.unregister("_incoming")

    def rewind(self, run_pk: int, step: int) -> int:
        # Not under the append lock: appends only insert, which never conflicts with this delete.
        # Zone maps on the sorted levels keep the scans to the run's row groups.
        now = time.time()
        tables = (*_layout.LEVELS, "other_values")
        with self._move_lock, self._reader() as con:
            con.begin()
            try:
                hidden = 0
                for table in tables:
                    target = "hidden_other_values" if table == "other_values" else "hidden_points"
                    moved = con.execute(f"INSERT INTO {target} SELECT run_pk, key_id, step, value, ? "
                                        f"FROM {table} WHERE run_pk = ? AND step > ?", [now, run_pk, step])
                    hidden += int(moved.fetchone()[0])  # type: ignore[index]
                    con.execute(f"DELETE FROM {table} WHERE run_pk = ? AND step > ?", [run_pk, step])
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return hidden

    def delete_run(self, run_pk: int) -> int:
        # Under the append lock (nothing staged for the run commits after this) and the move lock
        # (a compaction moving its points would conflict).
        tables = (*_layout.LEVELS, "other_values", "hidden_points", "hidden_other_values")
        with self._lock, self._move_lock, self._reader() as con:
            self._deleted.add(run_pk)
            con.begin()
            try:
                removed = 0
                for table in tables:
                    removed += int(con.execute(f"DELETE FROM {table} WHERE run_pk = ?", [run_pk]).fetchone()[0])  # type: ignore[index]
                con.execute("DELETE FROM writer_marks WHERE run_pk = ?", [run_pk])
                con.commit()
            except BaseException:
                con.rollback()
                raise
            for key in [k for k in self._marks if k[0] == run_pk]:
                del self._marks[key]
        return removed
