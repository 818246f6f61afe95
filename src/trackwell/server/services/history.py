"""A run's history from the metric store: downsampled buckets, sampled rows, paged scans, an
export in pages. A fork's history reads through its ancestors up to its branch step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from trackwell.server.services._errors import MetricNotFound, RunNotFound
from trackwell.store.metadata import RunStore
from trackwell.store.metrics import Downsampled, MetricStore, Segment

EXPORT_PAGE_STEPS = 5000
STEP = "_step"


class HistoryService:
    def __init__(self, runs: RunStore, metrics: MetricStore) -> None:
        self._runs, self._metrics = runs, metrics

    def buckets(self, entity: str, project: str, run_id: str, key: str, buckets: int,
                min_step: int | None = None, max_step: int | None = None,
                x_axis: str | None = None) -> Downsampled:
        """One metric in ``buckets`` equal step ranges; ``MetricNotFound`` if the run never logged
        it (or the ``x_axis`` metric). With ``x_axis``, the first and last points and each bucket
        carry ``x``: that metric's value as of their step (its last step, for a bucket)."""
        ref = self._segments(entity, project, run_id)
        result = self._metrics.downsample(ref, key, buckets, min_step, max_step)
        if not result["count"]:
            self._check_keys(ref, f"{entity}/{project}/{run_id}", [key])
        if x_axis is None or x_axis == STEP:
            return result
        self._check_keys(ref, f"{entity}/{project}/{run_id}", [x_axis])
        ends = [p for p in (result["first"], result["last"]) if p is not None]
        steps = [p["step"] for p in ends] + [b["last_step"] for b in result["buckets"]]
        xs = self._metrics.values_asof(ref, x_axis, steps)
        for point, x in zip([*ends, *result["buckets"]], xs, strict=True):
            cast(dict[str, Any], point)["x"] = x
        return cast(Downsampled, {**result, "x_axis": x_axis})

    def sample(self, entity: str, project: str, run_id: str, keys: list[str] | None,
               samples: int, x_axis: str | None = None) -> list[dict[str, Any]]:
        """Up to ``samples`` rows spread over the run's steps; with ``x_axis`` (a metric other than
        ``_step``), over the steps that metric was logged at, each row carrying it."""
        ref = self._segments(entity, project, run_id)
        if x_axis is None or x_axis == STEP:
            return self._metrics.sample(ref, keys, samples)
        self._check_keys(ref, f"{entity}/{project}/{run_id}", [x_axis])
        steps = [row[STEP] for row in self._metrics.sample(ref, [x_axis], samples)]
        return self._metrics.rows_at(ref, None if keys is None else [*keys, x_axis], steps)

    def _check_keys(self, ref: list[Segment], path: str, wanted: list[str]) -> None:
        keys = self._metrics.keys(ref)
        for key in wanted:
            if key not in keys:
                raise MetricNotFound(path, key, keys)

    def scan(self, entity: str, project: str, run_id: str, keys: list[str] | None, min_step: int | None,
             page_size: int) -> tuple[list[dict[str, Any]], int | None]:
        return self._metrics.scan(self._segments(entity, project, run_id), keys, min_step, page_size)

    def export(self, entity: str, project: str, run_id: str, keys: list[str] | None) -> Iterator[list[dict[str, Any]]]:
        """Every row, a page at a time (the run is looked up now, the pages are read as consumed)."""
        return self._pages(self._segments(entity, project, run_id), keys)

    def _pages(self, ref: list[Segment], keys: list[str] | None) -> Iterator[list[dict[str, Any]]]:
        min_step: int | None = None
        while True:
            rows, min_step = self._metrics.scan(ref, keys, min_step, EXPORT_PAGE_STEPS)
            if rows:
                yield rows
            if min_step is None:
                return

    def _segments(self, entity: str, project: str, run_id: str) -> list[Segment]:
        """The run, and for a fork its ancestors up to the branch: what history reads go through."""
        found = self._runs.lineage(entity, project, run_id)
        if found is None:
            raise RunNotFound(entity, project, run_id)
        return found[1]
