"""Search strategies: a small base class (``Search``) and grid and random search; bayes is in
``_bayes`` (Optuna, imported only when a bayes sweep asks for its next run).

A strategy is pure: given the sweep's runs so far it proposes the next parameter set (nested
like the run config) or ``None`` when it has nothing left. The server calls it inside the
transaction that records the choice, so two agents never get the same proposal.
"""

from __future__ import annotations

import abc
import hashlib
import itertools
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from trackwell.sweeps._params import Param
from trackwell.sweeps._schema import SweepConfig

IN_FLIGHT = frozenset({"pending", "running", "preempting", "preempted"})
FAILED = frozenset({"failed", "crashed", "killed"})


@dataclass
class SweepRun:
    """A run of the sweep as a strategy sees it. ``state``: ``pending`` (handed to an agent, not
    started yet) or a run state; ``value`` the metric's summary value; ``history`` the metric's
    logged values in order (hyperband's "iterations")."""

    run_id: str
    params: dict[str, Any]
    state: str
    value: float | None = None
    history: list[float] = field(default_factory=list)
    key: str | None = None  # its grid combination's key, when already known (the server stores it)


def get_path(params: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested ``params`` (KeyError when missing)."""
    value: Any = params
    for part in path:
        if not isinstance(value, dict):
            raise KeyError(part)
        value = value[part]
    return value


def nest(values: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """``{("opt", "lr"): 0.1}`` -> ``{"opt": {"lr": 0.1}}``."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def combination_key(params: Sequence[Param], values: dict[str, Any]) -> str | None:
    """A grid combination's identity: the md5 of each parameter's value (canonical JSON, so
    1 and 1.0 differ as they do in YAML); None when ``values`` lacks one of them."""
    try:
        picked = [[p.name, get_path(values, p.path)] for p in params]
    except KeyError:
        return None
    return hashlib.md5(json.dumps(picked, sort_keys=True, default=str).encode()).hexdigest()


class Search(abc.ABC):
    """Proposes the next run's parameters of one sweep."""

    def __init__(self, config: SweepConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def next(self, runs: Sequence[SweepRun], rng: random.Random) -> dict[str, Any] | None:
        """The next parameter set, nested like the run config; None: nothing left to try."""

    @property
    def size(self) -> int | None:
        """How many runs the search can propose (None: no end)."""
        return None

    def key(self, params: dict[str, Any]) -> str | None:
        """What makes two proposals the same one (the server keeps it unique); None: no identity."""
        return None


class GridSearch(Search):
    """Every combination once, in order; combinations a run already has (any state, prior runs
    included) are skipped."""

    def __init__(self, config: SweepConfig) -> None:
        super().__init__(config)
        self._keyed: list[tuple[str | None, dict[str, Any]]] | None = None  # the grid, computed once

    def combinations(self) -> Iterator[dict[str, Any]]:
        params = self.config.params
        for values in itertools.product(*(p.grid() for p in params)):
            yield nest({p.path: v for p, v in zip(params, values, strict=True)})

    @property
    def size(self) -> int:
        return math.prod(len(p.grid()) for p in self.config.params)

    def key(self, params: dict[str, Any]) -> str | None:
        return combination_key(self.config.params, params)

    def next(self, runs: Sequence[SweepRun], rng: random.Random) -> dict[str, Any] | None:
        if self._keyed is None:
            self._keyed = [(self.key(c), c) for c in self.combinations()]
        seen = {r.key or self.key(r.params) for r in runs}
        return next((c for key, c in self._keyed if key not in seen), None)


class RandomSearch(Search):
    """Each parameter sampled independently from its distribution; no memory, no end."""

    def next(self, runs: Sequence[SweepRun], rng: random.Random) -> dict[str, Any] | None:
        return nest({p.path: p.sample(rng) for p in self.config.params})


def search_for(config: SweepConfig) -> Search:
    if config.method == "grid":
        return GridSearch(config)
    if config.method == "random":
        return RandomSearch(config)
    from trackwell.sweeps._bayes import BayesSearch

    return BayesSearch(config)
