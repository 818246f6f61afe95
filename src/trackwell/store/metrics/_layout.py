"""Points laid out by (run, key, step): size-tiered levels, compacted in the background.

DuckDB skips a row group (122,880 rows) when its min/max per column exclude the filter, so one
run's chart costs about the row groups that hold some of its points. Appends land unsorted in
``points`` (level 0): with 1,000 runs interleaved every row group holds a bit of every run. When
level 0 reaches ``recent_rows``, a background thread moves it, sorted by (run_pk, key_id, step),
into level 1 as one chunk; a level holding ``fanout`` times the rows of the level below moves into
the next one the same way. A run's points are then in a few row groups per chunk and a bounded
number of chunks per level (at most ``fanout``), whatever order they arrived in: reads touch
O(levels x fanout) row groups instead of O(table / batch size).

A move is one DuckDB transaction (insert sorted into the next level, delete what it read), so a
reader's snapshot sees each point in exactly one level. Appends committed after the move began
are not in its snapshot and stay where they are. A rewind deleting rows the move also deletes
makes one of them fail on DuckDB's conflict check; ``move_lock`` keeps that to the move (which
rolls back and is retried on the next pass), never the rewind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import duckdb

log = logging.getLogger(__name__)

LEVELS = ("points", "points_l1", "points_l2", "points_l3")
COLUMNS = "run_pk, key_id, step, value"
SCHEMA = "".join(f"CREATE TABLE IF NOT EXISTS {t} (run_pk INTEGER, key_id INTEGER, step BIGINT, value DOUBLE);\n"
                 for t in LEVELS[1:]) + (
    "CREATE OR REPLACE VIEW points_all AS "
    + " UNION ALL ".join(f"SELECT {COLUMNS} FROM {t}" for t in LEVELS) + ";\n")

RECENT_ROWS = 2_000_000
FANOUT = 8


class Compactor:
    """The background thread moving full levels down (one per store).

    ``poke(rows)`` after each append: the thread wakes once level 0 holds about ``recent_rows``."""

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection], move_lock: threading.Lock,
                 recent_rows: int = RECENT_ROWS, fanout: int = FANOUT) -> None:
        self._con = cursor()
        self._move_lock = move_lock
        # A level moves down once it holds this many rows; the top level never does.
        self._limits = [recent_rows * fanout**i for i in range(len(LEVELS) - 1)]
        self._recent = self._count(0)
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._passing = threading.Lock()  # the loop's passes and compact() share the cursor
        self._thread = threading.Thread(target=self._loop, name="trackwell-compactor", daemon=True)
        self._thread.start()
        if self._recent >= self._limits[0]:
            self._signal()

    def poke(self, rows: int) -> None:
        self._recent += rows  # approximate (read back after each pass): it only decides when to wake
        if self._recent >= self._limits[0] and self._idle.is_set():
            self._signal()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no move is pending or running; True if so within ``timeout``."""
        return self._idle.wait(timeout)

    def compact(self) -> None:
        """Run a pass now, in the caller's thread, whatever the level sizes (tests, benches)."""
        with self._passing:
            for level in range(len(LEVELS) - 1):
                if self._count(level):
                    self._move(level, level + 1)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._con.interrupt()
        self._thread.join()
        self._con.close()

    def _signal(self) -> None:
        self._idle.clear()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                with self._passing:
                    self._pass()
            except duckdb.InterruptException:
                return
            except Exception:  # a failed pass leaves the points where they were; the next one retries
                log.exception("metric store compaction failed")
            finally:
                self._idle.set()

    def _pass(self) -> None:
        for level, limit in enumerate(self._limits):
            rows = self._count(level)
            if rows >= limit:
                # Straight to the deepest level this many rows belong in: a store from before the
                # levels existed is rewritten once, not once per level.
                target = level + 1
                while target < len(self._limits) and rows >= self._limits[target]:
                    target += 1
                self._move(level, target)
            if self._stop:
                return
        self._recent = self._count(0)

    def _count(self, level: int) -> int:
        return int(self._con.execute(f"SELECT count(*) FROM {LEVELS[level]}").fetchone()[0])  # type: ignore[index]

    def _move(self, level: int, target: int) -> None:
        src, dst = LEVELS[level], LEVELS[target]
        con = self._con
        started = time.perf_counter()
        con.begin()
        try:
            # ORDER BY with DuckDB's preserved insertion order: the chunk is stored sorted.
            moved = con.execute(f"INSERT INTO {dst} SELECT {COLUMNS} FROM {src} ORDER BY run_pk, key_id, step")
            rows = moved.fetchall()[0][0]
            with self._move_lock:
                con.execute(f"DELETE FROM {src}")  # the rows this snapshot read, not later appends
                con.commit()
            log.debug("moved %d points from %s to %s in %.2f s", rows, src, dst, time.perf_counter() - started)
        except duckdb.TransactionException:
            con.rollback()  # a rewind hid some of these rows meanwhile: the next pass moves the rest
            log.info("metric store compaction of %s yielded to a rewind", src)
        except BaseException:
            con.rollback()
            raise
