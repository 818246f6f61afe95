"""The metric store interface: append points exactly once, downsample, sample, scan."""

from __future__ import annotations

import abc
from collections.abc import Sequence
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


# A run's history as read: its own points plus, for a fork, its ancestors' points up to the
# branch step. Each segment is (run_pk, highest step read from it, or None for every step).
Segment = tuple[int, int | None]
RunRef = int | Sequence[Segment]


def segments(run: RunRef) -> list[Segment]:
    return [(run, None)] if isinstance(run, int) else list(run)


@dataclass
class Append:
    """One ``MetricStore.append``: points of a writer up to ``seq``, if its mark is ``expected_mark``."""

    run_pk: int
    writer: str
    seq: int
    points: PointBatch
    expected_mark: int
    offsets: tuple[int, float] = (0, 0.0)


@dataclass
class WriterMark:
    """A writer's applied seq and the step/runtime offsets its records are shifted by (non-zero
    only for an offline resume resolved by the server)."""

    applied: int = 0
    step_offset: int = 0
    runtime_offset: float = 0.0


@dataclass
class HistoryStats:
    """Per-key numeric (count, sum, min, max, last, last_step) and non-numeric (last_step, last)
    over a run's visible history: what rewinds and forks rebuild summaries from."""

    numeric: dict[str, tuple[int, float, float | None, float | None, float, int]]
    others: dict[str, tuple[int, Any]]


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
    same transaction as the points, which is what makes ingest exactly-once. Reads take a run pk
    or a fork's segments (see ``RunRef``)."""

    @abc.abstractmethod
    def applied(self, run_pk: int, writer: str) -> int:
        """Highest seq of ``writer`` whose points are stored (0 if none)."""

    @abc.abstractmethod
    def mark(self, run_pk: int, writer: str) -> WriterMark:
        """The writer's mark with its offsets (all zero if it has none)."""

    @abc.abstractmethod
    def writers(self, run_pk: int) -> list[str]:
        """Writers with a mark on the run."""

    @abc.abstractmethod
    def append(self, run_pk: int, writer: str, seq: int, points: PointBatch, expected_mark: int,
               offsets: tuple[int, float] = (0, 0.0)) -> bool:
        """Store ``points`` and move the writer's mark to ``seq``, in one transaction. ``offsets``
        (step, runtime) are recorded with a new mark only.

        Returns False (storing nothing) if the mark is no longer ``expected_mark``.
        """

    def append_many(self, items: Sequence[Append]) -> list[bool]:
        """``append`` for each item; a store that can does them in one transaction (the catch-up
        projecting many runs at once pays one commit, not one per run)."""
        return [self.append(i.run_pk, i.writer, i.seq, i.points, i.expected_mark, i.offsets) for i in items]

    @abc.abstractmethod
    def last_step(self, run: RunRef) -> int | None:
        """The highest visible step (None without history)."""

    @abc.abstractmethod
    def stats(self, run: RunRef) -> HistoryStats:
        """Per-key statistics of the visible history."""

    @abc.abstractmethod
    def rewind(self, run_pk: int, step: int) -> int:
        """Hide the run's own points after ``step`` (kept aside for audit); returns how many."""

    @abc.abstractmethod
    def delete_run(self, run_pk: int) -> int:
        """Remove every point, hidden point and writer mark of the run (a deleted run's pk is
        never reused); later appends for it store nothing. Returns how many points went."""

    @abc.abstractmethod
    def downsample(self, run: RunRef, key: str, buckets: int, min_step: int | None = None,
                   max_step: int | None = None) -> Downsampled:
        """One key in ``buckets`` equal step ranges, with the exact first and last points."""

    @abc.abstractmethod
    def sample(self, run: RunRef, keys: list[str] | None, samples: int) -> list[dict[str, Any]]:
        """Up to ``samples`` rows evenly spread over the run's steps, first and last included."""

    @abc.abstractmethod
    def rows_at(self, run: RunRef, keys: list[str] | None, steps: list[int]) -> list[dict[str, Any]]:
        """The rows at exactly ``steps`` (those that have a selected key), in step order."""

    @abc.abstractmethod
    def values_asof(self, run: RunRef, key: str, steps: list[int]) -> list[float | None]:
        """For each of ``steps``, ``key``'s numeric value at the latest step at or before it (None
        before its first point): a step metric's value for points logged with or after it."""

    @abc.abstractmethod
    def scan(self, run: RunRef, keys: list[str] | None, min_step: int | None,
             page_size: int) -> tuple[list[dict[str, Any]], int | None]:
        """Rows from ``min_step`` (``page_size`` steps at most) and the step the next page starts at."""

    @abc.abstractmethod
    def tail(self, run_pk: int, after: dict[str, int | None], n: int) -> dict[str, tuple[list[int], list[float]]]:
        """For each key of ``after``: the run's own newest ``n`` numeric points after the key's step
        (None: from the start), as (steps, values) in step order; one read for all the keys (what
        the automations evaluator reads for its windows)."""

    @abc.abstractmethod
    def keys(self, run: RunRef) -> list[str]:
        """Every history key the run has, sorted."""

    @abc.abstractmethod
    def close(self) -> None: ...
