"""What a run's summary is: one definition for the SDK's local view and the server's ingest.

Pure and dependency-free, so the SDK (``sdk/writer.py``'s mirror) and the server
(``store/metadata/_apply.py``) compute the same thing from the same history:

- A key's mode comes from ``define_metric(name, summary=...)``: an exact name first, then the
  first glob (``"val/*"``) that matches, else ``last``.
- ``last``: the value at the highest step, numeric or not.
- ``min`` / ``max``: over the numeric values, NaN skipped (a chart's range survives one NaN
  point; only NaN logged: NaN).
- ``mean``: over the numeric values, NaN included (NaN in, NaN mean).
- ``none``, or a key with no numeric value under ``min``/``max``/``mean``: not in the summary.
- ``_step`` is the highest step logged, whatever the modes (W&B's summary carries it too).
- A key assigned (``run.summary[k] = v``) or deleted (``del run.summary[k]``) is pinned: history
  no longer changes it (assigning it again brings it back, pinned).

Numbers are ``int`` and ``float`` (``bool`` is not a number here: it is a value like a string).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

SUMMARY_MODES = ("min", "max", "mean", "last", "none")
AGGREGATES = frozenset({"min", "max", "mean"})  # the modes that need a key's statistics
STEP = "_step"


def summary_mode(modes: Mapping[str, str], key: str) -> str:
    """The mode of ``key``: its own ``define_metric``, else the first matching glob, else last."""
    if key == STEP:
        return "last"
    mode = modes.get(key)
    if mode is not None:
        return mode
    for pattern, mode in modes.items():
        if "*" in pattern and fnmatchcase(key, pattern):
            return mode
    return "last"


def fold_min(a: float | None, b: float | None) -> float | None:
    """The smaller of two partial minimums (None: nothing yet); NaN never wins over a number."""
    if a is None or a != a:
        return b
    if b is None or b != b:
        return a
    return float(min(a, b))


def fold_max(a: float | None, b: float | None) -> float | None:
    """The larger of two partial maximums (None: nothing yet); NaN never wins over a number."""
    if a is None or a != a:
        return b
    if b is None or b != b:
        return a
    return float(max(a, b))


@dataclass(slots=True)
class KeyStats:
    """Numeric statistics of one key: over one batch at ingest, over a run's history, or as the
    SDK's mirror folds them in value by value (``add``)."""

    count: int
    sum: float
    min: float | None
    max: float | None
    last: float
    last_step: int

    @classmethod
    def of(cls, value: float, step: int) -> KeyStats:
        """The statistics of one value."""
        value = float(value)
        return cls(1, value, value, value, value, step)  # a NaN min/max gives way to the next number

    def add(self, value: float, step: int) -> None:
        """Fold one later value in (in place: the SDK's writer thread does this per logged value)."""
        self.count += 1
        self.sum += value
        self.min = fold_min(self.min, value)
        self.max = fold_max(self.max, value)
        if step >= self.last_step:
            self.last, self.last_step = float(value), step

    def merged(self, later: KeyStats) -> KeyStats:
        newer = later.last_step >= self.last_step
        return KeyStats(
            count=self.count + later.count,
            sum=self.sum + later.sum,
            min=fold_min(self.min, later.min),
            max=fold_max(self.max, later.max),
            last=later.last if newer else self.last,
            last_step=later.last_step if newer else self.last_step,
        )


def history_summary(stats: KeyStats | None, other: tuple[int, Any] | None, mode: str) -> tuple[bool, Any]:
    """A key's summary from its history: ``(False, None)`` when the key has none.

    ``stats``: its numeric values; ``other``: its latest non-numeric value as ``(step, value)``.
    """
    if mode == "last":
        if other is not None and (stats is None or other[0] >= stats.last_step):
            return True, other[1]
        return (True, stats.last) if stats is not None else (False, None)
    if stats is None or mode == "none":
        return False, None
    if mode == "min":
        return True, stats.min
    if mode == "max":
        return True, stats.max
    return True, stats.sum / stats.count  # mean


def summarize(summary: dict[str, Any], pinned: Container[str], modes: Mapping[str, str],
              stats: Mapping[str, KeyStats], others: Mapping[str, tuple[int, Any]]) -> None:
    """Update ``summary`` in place with the history summary of every key in ``stats`` or
    ``others`` that is not pinned."""
    for key in dict.fromkeys([*stats, *others]):
        if key in pinned:
            continue
        found, value = history_summary(stats.get(key), others.get(key), summary_mode(modes, key))
        if found:
            summary[key] = value


def advance_step(summary: dict[str, Any], pinned: Container[str], last_step: int) -> None:
    """``_step`` moves up to ``last_step`` (the newest history's), unless it is pinned."""
    if STEP not in pinned:
        summary[STEP] = max(last_step, summary.get(STEP, last_step))
