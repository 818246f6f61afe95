"""Metric history: the ``MetricStore`` interface and its DuckDB implementation."""

from trackwell.store.metrics._base import (
    Bucket,
    Downsampled,
    HistoryStats,
    MetricStore,
    Point,
    PointBatch,
    RunRef,
    Segment,
    WriterMark,
    segments,
)
from trackwell.store.metrics._duckdb import DuckDBMetricStore

__all__ = ["Bucket", "Downsampled", "DuckDBMetricStore", "HistoryStats", "MetricStore", "Point", "PointBatch",
           "RunRef", "Segment", "WriterMark", "segments"]
