"""The DuckDB metric store against numpy references."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from trackwell.store.metrics import DuckDBMetricStore, PointBatch


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBMetricStore]:
    s = DuckDBMetricStore(tmp_path / "m.duckdb")
    yield s
    s.close()


def _points(key: str, steps: np.ndarray, values: np.ndarray) -> PointBatch:
    return PointBatch([key], np.zeros(len(steps), np.int32), steps.astype(np.int64), values.astype(np.float64))


def _reference(steps: np.ndarray, values: np.ndarray, n: int) -> list[dict]:
    s0, s1 = steps.min(), steps.max()
    ids = np.floor((steps - s0).astype(np.float64) * n / (s1 - s0 + 1)).astype(np.int64)
    out = []
    for b in np.unique(ids):
        sel = ids == b
        bs, bv = steps[sel], values[sel]
        finite = bv[~np.isnan(bv)]
        out.append({"start_step": int(bs.min()), "end_step": int(bs.max()),
                    "min": float(finite.min()) if len(finite) else None,
                    "max": float(finite.max()) if len(finite) else None,
                    "last": float(bv[np.argmax(bs)]), "last_step": int(bs.max()), "count": int(sel.sum())})
    return out


def _same(a: list[dict], b: list[dict]) -> bool:
    def norm(v: object) -> object:
        return "nan" if isinstance(v, float) and np.isnan(v) else v
    return [{k: norm(v) for k, v in d.items()} for d in a] == [{k: norm(v) for k, v in d.items()} for d in b]


def test_downsample_matches_numpy(store: DuckDBMetricStore) -> None:
    rng = np.random.default_rng(1)
    steps = np.sort(rng.choice(1_000_000, size=200_000, replace=False))
    values = rng.normal(size=len(steps))
    values[rng.choice(len(values), 50)] = np.nan
    assert store.append(1, "w", 1, _points("loss", steps, values), 0)
    store.append(2, "w", 1, _points("loss", steps[:10], values[:10] + 100), 0)  # another run, same key
    for n in (1, 7, 1000):
        got = store.downsample(1, "loss", n)
        assert got["count"] == len(steps)
        assert got["first"] == {"step": int(steps[0]), "value": float(values[0])}
        assert got["last"]["step"] == int(steps[-1])
        assert _same(got["buckets"], _reference(steps, values, n))
    window = (steps >= 250_000) & (steps <= 500_000)
    got = store.downsample(1, "loss", 100, 250_000, 500_000)
    assert got["count"] == window.sum() and _same(got["buckets"], _reference(steps[window], values[window], 100))
    assert store.downsample(1, "nope", 10)["count"] == 0


def test_marks_skip_and_reject(store: DuckDBMetricStore) -> None:
    batch = _points("x", np.arange(5), np.arange(5.0))
    assert store.append(7, "w", 5, batch, 0)
    assert store.applied(7, "w") == 5 and store.applied(7, "other") == 0
    assert not store.append(7, "w", 10, batch, 0)  # stale expectation: nothing written
    assert store.downsample(7, "x", 10)["count"] == 5


def test_sample_scan_and_keys(store: DuckDBMetricStore) -> None:
    steps = np.arange(0, 1000, dtype=np.int64)
    batch = PointBatch(["a", "b"], np.tile(np.array([0, 1], np.int32), 1000), np.repeat(steps, 2),
                       np.repeat(steps.astype(np.float64), 2) * np.tile([1.0, -1.0], 1000),
                       others=[("tag", 10, "ten"), ("tag", 999, None)])
    assert store.append(3, "w", 1, batch, 0)
    assert store.keys(3) == ["a", "b", "tag"]
    rows = store.sample(3, ["a"], 11)
    sampled = [r["_step"] for r in rows]
    assert sampled == sorted(set(sampled)) and np.all(np.diff(sampled) <= 101)  # evenly spread
    assert rows[0] == {"_step": 0, "a": 0.0} and rows[-1] == {"_step": 999, "a": 999.0} and len(rows) == 11
    assert store.sample(3, ["missing"], 10) == []
    page, next_step = store.scan(3, None, 5, 6)
    assert [r["_step"] for r in page] == list(range(5, 11)) and next_step == 11
    assert page[-1] == {"_step": 10, "a": 10.0, "b": -10.0, "tag": "ten"}
    page, next_step = store.scan(3, ["tag", "b"], 998, 10)
    assert page == [{"_step": 998, "b": -998.0}, {"_step": 999, "b": -999.0, "tag": None}] and next_step is None
