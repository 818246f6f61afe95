"""Bayesian search backed by Optuna's TPE sampler (a maintained optimizer, not a hand-written GP).

Each proposal replays the sweep into a fresh in-memory Optuna study: finished runs as complete
trials; failed, crashed and killed ones with the metric's ``impute`` value (worst by default, as
W&B does); runs in flight as running trials, which TPE's constant liar keeps other agents away
from (or, with ``impute_while_running``, as complete trials with that value). Parameters are
searched in their internal coordinates (``Param.space``), so log and normal priors are honoured.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from typing import Any

from trackwell.sweeps._params import Param, Space
from trackwell.sweeps._search import FAILED, IN_FLIGHT, Search, SweepRun, get_path, nest

N_STARTUP = 8  # random proposals before the model takes over (W&B's GP starts after 2 points)
MAX_TRIALS = 1000  # the newest runs the model sees; TPE's cost grows with them


def _distribution(optuna: Any, space: Space) -> Any:
    d = optuna.distributions
    if space.kind == "index":
        return d.CategoricalDistribution(tuple(range(space.size)))
    if space.kind == "int":
        return d.IntDistribution(int(space.low), int(space.high))
    return d.FloatDistribution(space.low, space.high, log=space.log)


class BayesSearch(Search):
    def next(self, runs: Sequence[SweepRun], rng: random.Random) -> dict[str, Any] | None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        metric = self.config.metric
        assert metric is not None  # validate() requires one for bayes
        searchable = self.config.searchable
        dists = {p.name: _distribution(optuna, p.space()) for p in searchable}
        with warnings.catch_warnings():  # constant_liar and multivariate are "experimental"
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=rng.randrange(2**31), n_startup_trials=N_STARTUP,
                                                 constant_liar=True, multivariate=True)
            study = optuna.create_study(direction="maximize" if metric.goal == "maximize" else "minimize",
                                        sampler=sampler)
            study.add_trials(self._trials(optuna, runs[-MAX_TRIALS:], searchable, dists))
            trial = study.ask(dists)
        values = {p.path: p.to_value(trial.params[p.name]) for p in searchable}
        values.update({p.path: p.spec["value"] for p in self.config.params if not p.searchable})
        return nest(values)

    def _trials(self, optuna: Any, runs: Sequence[SweepRun], searchable: Sequence[Param],
                dists: dict[str, Any]) -> list[Any]:
        metric = self.config.metric
        assert metric is not None
        done = [r.value for r in runs if r.state == "finished" and r.value is not None and math.isfinite(r.value)]
        worst = (min if metric.goal == "maximize" else max)(done) if done else None
        best = (max if metric.goal == "maximize" else min)(done) if done else None
        trials = []
        for run in runs:
            params = self._internal(run, searchable)
            if params is None:
                continue
            value: float | None = None
            running = False
            if run.state == "finished" and _finite(run.value):
                value = run.value
            elif run.state in FAILED:
                value = self._impute(metric.impute, run, worst, best)
            elif run.state in IN_FLIGHT:
                how = metric.impute_while_running
                value = self._impute(how, run, worst, best) if how else None
                running = value is None
            if value is None and not running:
                continue
            state = optuna.trial.TrialState.RUNNING if running else optuna.trial.TrialState.COMPLETE
            trials.append(optuna.trial.create_trial(state=state, value=value, params=params, distributions=dists))
        return trials

    @staticmethod
    def _impute(how: Any, run: SweepRun, worst: float | None, best: float | None) -> float | None:
        if how == "latest" and _finite(run.value):
            return run.value
        return best if how == "best" else worst

    @staticmethod
    def _internal(run: SweepRun, searchable: Sequence[Param]) -> dict[str, Any] | None:
        out = {}
        for p in searchable:
            try:
                x = p.to_internal(get_path(run.params, p.path))
            except KeyError:
                return None
            if x is None:
                return None  # a prior run with a value outside this search space
            out[p.name] = x
        return out


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
