"""The metric store interface: append points exactly once, downsample, sample, scan."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt


@dataclass
class PointBatch:
    """Columns of history points. ``key_idx`` indexes ``keys``; ``others`` are non-numeric values
    (bool, str, None) as ``(key, step, value)``."""

    keys: list[str]
    key_idx: npt.NDArray[np.int32]
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    others: list[tuple[str, int, Any]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> PointBatch:
        return cls([], np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64))


class Point(TypedDict):
    step: int
    value: float


class Bucket(TypedDict):
    start_step: int
    end_step: int
    min: float | None
    max: float | None
    last: float
    last_step: int
    count: int


class Downsampled(TypedDict):
    key: str
    count: int
    first: Point | None
    last: Point | None
    buckets: list[Bucket]


class MetricStore(abc.ABC):
    """Per-run metric history. Implementations keep an applied-seq mark per (run, writer) in the
    same transaction as the points, which is what makes ingest exactly-once."""

    @abc.abstractmethod
    def applied(self, run_pk: int, writer: str) -> int:
        """Highest seq of ``writer`` whose points are stored (0 if none)."""

    @abc.abstractmethod
    def append(self, run_pk: int, writer: str, seq: int, points: PointBatch, expected_mark: int) -> bool:
        """Store ``points`` and move the writer's mark to ``seq``, in one transaction.

        Returns False (storing nothing) if the mark is no longer ``expected_mark``.
        """

    @abc.abstractmethod
    def downsample(self, run_pk: int, key: str, buckets: int, min_step: int | None = None,
                   max_step: int | None = None) -> Downsampled:
        """One key in ``buckets`` equal step ranges, with the exact first and last points."""

    @abc.abstractmethod
    def sample(self, run_pk: int, keys: list[str] | None, samples: int) -> list[dict[str, Any]]:
        """Up to ``samples`` rows evenly spread over the run's steps, first and last included."""

    @abc.abstractmethod
    def scan(self, run_pk: int, keys: list[str] | None, min_step: int | None,
             page_size: int) -> tuple[list[dict[str, Any]], int | None]:
        """Rows from ``min_step`` (``page_size`` steps at most) and the step the next page starts at."""

    @abc.abstractmethod
    def keys(self, run_pk: int) -> list[str]:
        """Every history key the run has, sorted."""

    @abc.abstractmethod
    def close(self) -> None: ...
