"""Metric history: the ``MetricStore`` interface and its DuckDB implementation."""

from trackwell.store.metrics._base import Bucket, Downsampled, MetricStore, Point, PointBatch
from trackwell.store.metrics._duckdb import DuckDBMetricStore

__all__ = ["Bucket", "Downsampled", "DuckDBMetricStore", "MetricStore", "Point", "PointBatch"]
