"""Server-side storage: relational metadata (``metadata``) and metric history (``metrics``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trackwell.store.metadata import MetadataStore
from trackwell.store.metrics import DuckDBMetricStore, MetricStore


@dataclass
class Stores:
    """The two stores a server process owns."""

    metadata: MetadataStore
    metrics: MetricStore

    def close(self) -> None:
        self.metrics.close()
        self.metadata.close()


def open_stores(db_url: str, metrics_path: str | Path) -> Stores:
    """Open (and migrate) the metadata database at ``db_url`` and the DuckDB file ``metrics_path``."""
    return Stores(MetadataStore(db_url), DuckDBMetricStore(metrics_path))


__all__ = ["Stores", "open_stores"]
