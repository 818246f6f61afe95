"""A run's history from the metric store: downsampled buckets, sampled rows, paged scans, an
export in pages. A fork's history reads through its ancestors up to its branch step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trackwell.server.services._errors import MetricNotFound, RunNotFound
from trackwell.store.metadata import RunStore
from trackwell.store.metrics import Downsampled, MetricStore, Segment

EXPORT_PAGE_STEPS = 5000


class HistoryService:
    def __init__(self, runs: RunStore, metrics: MetricStore) -> None:
        self._runs, self._metrics = runs, metrics

    def buckets(self, entity: str, project: str, run_id: str, key: str, buckets: int,
                min_step: int | None = None, max_step: int | None = None) -> Downsampled:
        """One metric in ``buckets`` equal step ranges; ``MetricNotFound`` if the run never logged it."""
        ref = self._segments(entity, project, run_id)
        result = self._metrics.downsample(ref, key, buckets, min_step, max_step)
        if not result["count"]:
            keys = self._metrics.keys(ref)
            if key not in keys:
                raise MetricNotFound(f"{entity}/{project}/{run_id}", key, keys)
        return result

    def sample(self, entity: str, project: str, run_id: str, keys: list[str] | None,
               samples: int) -> list[dict[str, Any]]:
        return self._metrics.sample(self._segments(entity, project, run_id), keys, samples)

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
