"""Metric history: the ``MetricStore`` interface and its DuckDB implementation."""

from trackwell.store.metrics._base import (
    Append,
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

__all__ = ["Append", "Bucket", "Downsampled", "DuckDBMetricStore", "HistoryStats", "MetricStore", "Point", "PointBatch",
           "RunRef", "Segment", "WriterMark", "segments"]
