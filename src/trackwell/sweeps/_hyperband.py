"""Hyperband early termination (W&B's ``hyperband_stopping``): at each band ``b`` (a number of
times the metric was logged), a running run whose value at its ``b``-th log is worse than the
``1/eta`` quantile of every run's value there is stopped. ``strict: false`` compares the run's
best value up to the band instead of the value at it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trackwell.sweeps._schema import Hyperband, Metric
from trackwell.sweeps._search import SweepRun


@dataclass(frozen=True)
class Stop:
    run_id: str
    reason: str


def hyperband_stops(runs: Sequence[SweepRun], hyperband: Hyperband, metric: Metric) -> list[Stop]:
    """The running runs to stop now, each with the reason a user sees."""
    sign = -1.0 if metric.goal == "maximize" else 1.0  # compare as minimization
    histories = {r.run_id: [sign * v for v in r.history if math.isfinite(v)] for r in runs}
    r = 1.0 / hyperband.eta
    thresholds = []
    for band in hyperband.bands:
        at_band = sorted(h[band - 1] for h in histories.values() if len(h) >= band)
        thresholds.append(at_band[int(r * len(at_band))] if at_band else math.inf)
    stops = []
    for run in runs:
        if run.state != "running":
            continue
        history = histories[run.run_id]
        reached = [(b, t) for b, t in zip(hyperband.bands, thresholds, strict=True) if len(history) >= b]
        if not reached:
            continue
        band, threshold = reached[-1]
        value = history[band - 1] if hyperband.strict else min(history[:band])
        if value > threshold:
            stops.append(Stop(run.run_id, f"hyperband: {metric.name} = {sign * value:g} at log {band} is worse "
                                          f"than the band's threshold {sign * threshold:g} (eta {hyperband.eta:g})"))
    return stops
