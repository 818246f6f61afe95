"""The metric store's levels: points compacted into (run, key, step) order read back the same,
readers never see a point twice or miss one while a move commits, rewinds stay exact."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest

from trackwell.store.metrics import DuckDBMetricStore, PointBatch
from trackwell.store.metrics._layout import LEVELS

KEYS = ["a", "b", "c"]


def _batch(run: int, first_step: int, steps: int) -> PointBatch:
    step = np.repeat(np.arange(first_step, first_step + steps, dtype=np.int64), len(KEYS))
    key_idx = np.tile(np.arange(len(KEYS), dtype=np.int32), steps)
    return PointBatch(KEYS, key_idx, step, np.sin(step * 0.1 + run) + key_idx,
                      others=[("tag", first_step, f"r{run}")])


def _load(store: DuckDBMetricStore, runs: int, batches: int, steps: int) -> None:
    """Runs interleaved, one batch of each in turn (the layout compaction has to undo)."""
    for b in range(batches):
        for run in range(1, runs + 1):
            assert store.append(run, "w", b + 1, _batch(run, b * steps, steps), b)


def _level_rows(store: DuckDBMetricStore) -> list[int]:
    con = store._con.cursor()
    try:
        return [int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in LEVELS]  # type: ignore[index]
    finally:
        con.close()


def _everything(store: DuckDBMetricStore, run: int) -> tuple:
    stats = store.stats(run)
    # a sum's last bits depend on the order points are added in
    numeric = {k: (n, round(total, 9), *rest) for k, (n, total, *rest) in stats.numeric.items()}
    return (store.downsample(run, "b", 7), numeric, stats.others, store.sample(run, None, 50),
            store.scan(run, ["a", "tag"], 3, 40), store.keys(run), store.last_step(run),
            store.downsample([(run, None), (run + 1, 25)], "c", 5))


@pytest.fixture
def compacting(tmp_path: Path) -> Iterator[DuckDBMetricStore]:
    s = DuckDBMetricStore(tmp_path / "m.duckdb", recent_rows=500, fanout=2)
    yield s
    s.close()


def test_compacted_levels_read_like_appended(compacting: DuckDBMetricStore, tmp_path: Path) -> None:
    plain = DuckDBMetricStore(tmp_path / "plain.duckdb", recent_rows=10**12)
    try:
        _load(plain, 5, 12, 10)
        _load(compacting, 5, 12, 10)
        assert compacting.wait_compacted(30)
        rows = _level_rows(compacting)
        assert sum(rows) == 5 * 12 * 10 * len(KEYS) and rows[0] < 500 and sum(rows[2:]) > 0
        for run in (1, 3, 5):
            assert _everything(compacting, run) == _everything(plain, run)
        compacting.compact()
        assert _level_rows(compacting)[:-1] == [0, 0, 0]
        assert _everything(compacting, 2) == _everything(plain, 2)
    finally:
        plain.close()


def test_readers_see_each_point_once_while_levels_move(compacting: DuckDBMetricStore) -> None:
    _load(compacting, 3, 10, 20)
    done = threading.Event()
    errors: list[str] = []

    def read() -> None:
        last = 0
        while not done.is_set():
            settled = compacting.downsample(1, "a", 10)["count"]
            growing = compacting.stats(9).numeric.get("a", (0,))[0]
            if settled != 200:
                errors.append(f"run 1 has {settled} points of 'a', not 200")
            if growing < last or growing % 20:
                errors.append(f"run 9 went from {last} to {growing} points of 'a'")
            last = growing

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for b in range(60):  # run 9 grows while moves commit, in the background and forced
            assert compacting.append(9, "w", b + 1, _batch(9, b * 20, 20), b)
            if b % 15 == 0:
                compacting.compact()
    finally:
        done.set()
        for t in readers:
            t.join()
    assert not errors, errors[:5]
    assert compacting.stats(9).numeric["a"][0] == 1200


def test_rewinds_between_moves_hide_exactly(compacting: DuckDBMetricStore) -> None:
    _load(compacting, 4, 10, 20)
    stop = threading.Event()

    def compact() -> None:
        while not stop.is_set():
            compacting.compact()

    mover = threading.Thread(target=compact)
    mover.start()
    try:
        hidden = [compacting.rewind(run, 99) for run in (1, 2, 3)]
    finally:
        stop.set()
        mover.join()
    assert hidden == [100 * len(KEYS) + 5] * 3  # numeric points and the 'tag' values past step 99
    for run in (1, 2, 3):
        assert compacting.last_step(run) == 99 and compacting.stats(run).numeric["a"][0] == 100
    assert compacting.stats(4).numeric["a"][0] == 200
    con = compacting._con.cursor()
    assert con.execute("SELECT count(*) FROM hidden_points").fetchone() == (300 * len(KEYS),)
    con.close()


def test_a_store_from_before_the_levels_is_compacted_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE points (run_pk INTEGER, key_id INTEGER, step BIGINT, value DOUBLE);"
                "CREATE TABLE metric_keys (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);"
                "INSERT INTO metric_keys VALUES (1, 'a');"
                "INSERT INTO points SELECT range % 7, 1, range // 7, range FROM range(7000)")
    con.close()
    store = DuckDBMetricStore(path, recent_rows=1000, fanout=2)
    try:
        assert store.wait_compacted(30)
        assert _level_rows(store) == [0, 0, 0, 7000]  # moved once, to the level its size belongs in
        assert store.downsample(3, "a", 4)["count"] == 1000
    finally:
        store.close()
