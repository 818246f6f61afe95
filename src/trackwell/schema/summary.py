"""What a run's summary is: one definition for the SDK's local view and the server's ingest.

Pure and dependency-free, so the SDK (``sdk/writer.py``'s mirror) and the server
(``store/metadata/_apply.py``) compute the same thing from the same history:

- A key's definition comes from ``define_metric(name, summary=..., goal=...)``: an exact name
  first, then the first glob (``"val/*"``) that matches. Its ops (``summary_ops``) are what
  W&B's ``summary=`` takes: one or several of min, max, mean, last, first, best, none, copy.
- No definition, no ``summary=``, or ``"copy"``: the summary holds the key's plain newest value
  (the value at the highest step, numeric or not), as W&B's does.
- Explicit ops give W&B's shape, one entry per op: ``summary="min,max"`` -> ``{"min": 0.1,
  "max": 0.9}``. ``min`` / ``max``: over the numeric values, NaN skipped (only NaN logged: NaN);
  ``mean``: NaN included; ``first``: the value at the lowest step; ``last``: at the highest;
  ``best``: the min, or the max when ``goal="max"``. An op with no numeric value is left out.
- ``none``: the key is not in the summary.
- ``_step`` is the highest step logged, whatever the definitions (W&B's summary carries it too).
- A key assigned (``run.summary[k] = v``) or deleted (``del run.summary[k]``) is pinned: history
  no longer changes it (assigning it again brings it back, pinned).

Numbers are ``int`` and ``float`` (``bool`` is not a number here: it is a value like a string).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

SUMMARY_MODES = ("min", "max", "mean", "last", "first", "best", "none", "copy")
GOALS = {"min": "min", "max": "max", "minimize": "min", "maximize": "max"}
COPY: tuple[str, ...] = ("copy",)  # no definition: the plain newest value
AGGREGATES = frozenset({"min", "max", "mean", "first", "best_min", "best_max"})  # ops that need statistics
STEP = "_step"

Ops = tuple[str, ...]  # a key's resolved ops; "best" is resolved to "best_min" or "best_max"


def summary_ops(summary: str | None, goal: str | None = None) -> Ops:
    """``"min,max"`` -> ("min", "max"); ``"best"`` with ``goal="max"`` -> ("best_max",).
    Raises ValueError naming the bad op or goal."""
    if goal is not None and str(goal).lower() not in GOALS:
        raise ValueError(f"goal={goal!r} is not one of min, max (or minimize, maximize)")
    if not summary:
        return COPY
    ops: list[str] = []
    for op in (part.strip().lower() for part in str(summary).split(",")):
        if op not in SUMMARY_MODES:
            raise ValueError(f"summary op {op!r} is not one of {', '.join(SUMMARY_MODES)}")
        if op == "best":
            op = "best_" + GOALS[str(goal or "min").lower()]
        if op not in ops:
            ops.append(op)
    return ("none",) if "none" in ops else tuple(ops)


def definition_ops(definition: Any) -> Ops:
    """A stored definition's ops: a dict (``{"summary": ..., "goal": ...}``) or, as stored by
    earlier versions, the summary string alone."""
    if isinstance(definition, dict):
        return summary_ops(definition.get("summary"), definition.get("goal"))
    return summary_ops(definition)


def summary_mode(modes: Mapping[str, Any], key: str) -> Ops:
    """The ops of ``key``: its own definition, else the first matching glob, else plain copy."""
    if key == STEP:
        return COPY
    definition = modes.get(key)
    if definition is not None:
        return definition_ops(definition)
    for pattern, definition in modes.items():
        if "*" in pattern and fnmatchcase(key, pattern):
            return definition_ops(definition)
    return COPY


def step_metric_of(syncs: Mapping[str, str], key: str) -> str | None:
    """The step metric ``key`` is charted against (exact name first, then the first glob)."""
    metric = syncs.get(key)
    if metric is None:
        metric = next((m for pattern, m in syncs.items() if "*" in pattern and fnmatchcase(key, pattern)), None)
    return None if metric == key else metric


def needs_stats(ops: Ops) -> bool:
    return any(op in AGGREGATES for op in ops)


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
    # The value at the lowest step; None when not known (the server keeps it in the summary
    # value of keys defined with "first", not among the stored statistics).
    first: float | None = None
    first_step: int | None = None

    @classmethod
    def of(cls, value: float, step: int) -> KeyStats:
        """The statistics of one value."""
        value = float(value)
        return cls(1, value, value, value, value, step, value, step)  # a NaN min/max gives way to the next number

    def add(self, value: float, step: int) -> None:
        """Fold one later value in (in place: the SDK's writer thread does this per logged value)."""
        self.count += 1
        self.sum += value
        self.min = fold_min(self.min, value)
        self.max = fold_max(self.max, value)
        if step >= self.last_step:
            self.last, self.last_step = float(value), step
        if self.first_step is not None and step < self.first_step:
            self.first, self.first_step = float(value), step

    def merged(self, later: KeyStats) -> KeyStats:
        newer = later.last_step >= self.last_step
        return KeyStats(
            count=self.count + later.count,
            sum=self.sum + later.sum,
            min=fold_min(self.min, later.min),
            max=fold_max(self.max, later.max),
            last=later.last if newer else self.last,
            last_step=later.last_step if newer else self.last_step,
            first=self.first if self.first is not None else later.first,
            first_step=self.first_step if self.first is not None else later.first_step,
        )


def history_summary(stats: KeyStats | None, other: tuple[int, Any] | None, ops: Ops) -> tuple[bool, Any]:
    """A key's summary from its history: ``(False, None)`` when the key has none.

    ``stats``: its numeric values; ``other``: its latest non-numeric value as ``(step, value)``.
    """
    if ops == COPY:
        return _newest(stats, other)
    if "none" in ops:
        return False, None
    shaped: dict[str, Any] = {}
    for op in ops:
        if op in ("last", "copy"):
            found, value = _newest(stats, other)
            if found:
                shaped["last"] = value
        elif stats is not None:
            value = _statistic(stats, op)
            if value is not None:
                shaped["best" if op.startswith("best") else op] = value
    return (True, shaped) if shaped else (False, None)


def _newest(stats: KeyStats | None, other: tuple[int, Any] | None) -> tuple[bool, Any]:
    if other is not None and (stats is None or other[0] >= stats.last_step):
        return True, other[1]
    return (True, stats.last) if stats is not None else (False, None)


def _statistic(stats: KeyStats, op: str) -> float | None:
    if op in ("min", "best_min"):
        return stats.min
    if op in ("max", "best_max"):
        return stats.max
    if op == "first":
        return stats.first
    return stats.sum / stats.count  # mean


def summarize(summary: dict[str, Any], pinned: Container[str], modes: Mapping[str, Any],
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
