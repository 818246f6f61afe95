"""The run's summary as the script sees it (``run.summary``), kept by the writer thread."""

from __future__ import annotations

from typing import Any

from trackwell.schema.summary import (
    KeyStats,
    Ops,
    history_summary,
    needs_stats,
    step_metric_of,
    summary_mode,
)


class SummaryMirror:
    """The run's summary as the script sees it, by the rules the server applies at ingest
    (``trackwell.schema.summary``), kept cheap per row: the newest value of every key (``last``,
    updated by the writer with one C-level dict.update per row), statistics only for keys under
    min/max/mean (``aggregate``); ``view()`` combines. Used by the writer thread only."""

    def __init__(self, seed: dict[str, Any] | None) -> None:
        self._seed = dict(seed or {})  # a resumed run's summary as the server had it
        self.last: dict[str, Any] = {}
        self.modes: dict[str, Any] = {}  # define_metric name or glob -> {"summary": ..., "goal": ...}
        self._explicit: dict[str, Any] = {}  # run.summary assignments: pinned
        self._removed: set[str] = set()  # del run.summary[key]: pinned away
        self._mode_of: dict[str, Ops] = {}  # resolved per key (cache)
        self._stats: dict[str, KeyStats] = {}  # numeric values of the keys under min/max/mean
        self._syncs: dict[str, str] = {}  # define_metric name or glob -> step_metric, for step_sync
        self._step_of: dict[str, str | None] = {}  # resolved per key (cache)

    def assign(self, update: dict[str, Any], remove: list[str]) -> None:
        self._explicit.update(update)
        self._removed.difference_update(update)
        for key in remove:
            self._explicit.pop(key, None)
            self._removed.add(key)

    def define(self, name: str, definition: dict[str, Any], synced_step: str | None = None) -> None:
        """``synced_step``: the step_metric of a definition with step_sync."""
        self.modes[name] = definition
        self._mode_of.clear()
        if synced_step:
            self._syncs[name] = synced_step
            self._step_of.clear()

    def sync_steps(self, row: dict[str, Any]) -> None:
        """define_metric's step_sync (W&B's): a row logging a metric without its step_metric
        gets the step metric's last value, so the metric can be charted against it."""
        if not self._syncs:
            return
        found, last = self._step_of, self.last
        add: dict[str, Any] = {}
        for key in row:
            metric = found.get(key, "")
            if metric == "":
                metric = found[key] = step_metric_of(self._syncs, key)
            if metric is not None and metric not in row and metric in last and metric[0] != "_":
                add[metric] = last[metric]
        row.update(add)

    def view(self) -> dict[str, Any]:
        view = {k: v for k, v in self._seed.items() if k not in self._removed}
        for key, value in self.last.items():
            if key in self._explicit or key in self._removed:
                continue
            mode = self._mode_of.get(key) or self._resolve_mode(key)
            # ``value`` is the key's newest value of any type: what "last" picks by step
            found, shown = history_summary(self._stats.get(key) if needs_stats(mode) else None, (0, value), mode)
            if found:
                view[key] = shown
        view.update(self._explicit)
        return view

    def aggregate(self, data: dict[str, Any], step: int) -> None:
        mode_of, stats = self._mode_of, self._stats
        for key, value in data.items():
            mode = mode_of.get(key) or self._resolve_mode(key)
            if type(value) in (int, float) and needs_stats(mode):
                s = stats.get(key)
                if s is None:
                    stats[key] = KeyStats.of(value, step)
                else:
                    s.add(value, step)

    def _resolve_mode(self, key: str) -> Ops:
        mode = self._mode_of[key] = summary_mode(self.modes, key)
        return mode
