"""One sweep parameter: how it samples, what its grid is, and how a search space sees it.

Every distribution of the W&B schema is a ``Param`` of one ``kind``. For model-based search a
param has an *internal* coordinate (``space``: a uniform, log-uniform or integer range, or the
index of a categorical value) with ``to_value``/``to_internal`` between the two, the way W&B's
bayes search maps values through each distribution's CDF. Normal-shaped priors map through their
CDF (``statistics.NormalDist``, no scipy); beta ones search their support [0, 1] directly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

# distribution -> (required keys, defaults of the optional ones)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {}),
    "categorical_w_probabilities": (("values", "probabilities"), {}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1.0}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1.0}),
    "q_log_uniform_values": (("min", "max"), {"q": 1.0}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1.0}),
}
GRIDDABLE = frozenset({"constant", "categorical", "categorical_w_probabilities", "int_uniform", "q_uniform"})
_EDGE = 1e-6  # CDF coordinates stay inside (0, 1): the normal's PPF is infinite at the ends


@dataclass(frozen=True)
class Space:
    """A param's internal search coordinate: ``float`` in [low, high] (``log``: log-scaled),
    ``int`` in [low, high], or ``index`` into ``size`` categorical values."""

    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    size: int = 0


@dataclass(frozen=True)
class Param:
    """A validated parameter: ``path`` in the run config (nested parameters: more than one part),
    ``kind`` a key of ``DISTRIBUTIONS``, ``spec`` its keys with the defaults filled in."""

    path: tuple[str, ...]
    kind: str
    spec: dict[str, Any] = field(hash=False)

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def searchable(self) -> bool:
        return self.kind != "constant"

    # -- sampling ---------------------------------------------------------------------------

    def sample(self, rng: random.Random) -> Any:
        s, kind = self.spec, self.kind
        if kind == "constant":
            return s["value"]
        if kind == "categorical":
            return rng.choice(s["values"])
        if kind == "categorical_w_probabilities":
            return rng.choices(s["values"], weights=s["probabilities"])[0]
        if kind == "int_uniform":
            return rng.randint(s["min"], s["max"])
        if kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
            x = rng.gauss(s["mu"], s["sigma"])
            return self._finish(math.exp(x) if "log" in kind else x)
        if kind in ("beta", "q_beta"):
            return self._finish(rng.betavariate(s["a"], s["b"]))
        space = self.space()
        x = (math.exp(rng.uniform(math.log(space.low), math.log(space.high))) if space.log
             else rng.uniform(space.low, space.high))
        return self.to_value(x)

    def grid(self) -> list[Any]:
        """Every value a grid search takes: int_uniform is ``min..max`` inclusive, q_uniform
        ``min, min+q, ...`` below ``max`` (W&B's ``np.arange``, which excludes ``max``)."""
        s, kind = self.spec, self.kind
        if kind == "constant":
            return [s["value"]]
        if kind in ("categorical", "categorical_w_probabilities"):
            return list(s["values"])
        if kind == "int_uniform":
            return list(range(s["min"], s["max"] + 1))
        if kind == "q_uniform":
            lo, hi, q = s["min"], s["max"], s["q"]
            count = max(0, math.ceil((hi - lo) / q - 1e-9))
            whole = all(isinstance(v, int) for v in (lo, q))
            return [lo + i * q if whole else round(lo + i * q, 12) for i in range(count)]
        raise ValueError(f"parameter {self.name}: distribution {kind} has no grid")

    # -- the internal coordinate of model-based search ----------------------------------------

    def space(self) -> Space:
        s, kind = self.spec, self.kind
        if kind in ("categorical", "categorical_w_probabilities"):
            return Space("index", size=len(s["values"]))
        if kind == "int_uniform":
            return Space("int", s["min"], s["max"])
        if kind in ("uniform", "q_uniform", "log_uniform", "inv_log_uniform", "q_log_uniform"):
            return Space("float", float(s["min"]), float(s["max"]))
        if kind in ("log_uniform_values", "inv_log_uniform_values", "q_log_uniform_values"):
            return Space("float", float(s["min"]), float(s["max"]), log=True)
        if kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
            return Space("float", _EDGE, 1 - _EDGE)
        if kind in ("beta", "q_beta"):
            return Space("float", 0.0, 1.0)
        raise ValueError(f"parameter {self.name}: a constant has no search space")

    def to_value(self, x: Any) -> Any:
        """The parameter's value at internal coordinate ``x``."""
        s, kind = self.spec, self.kind
        if kind in ("categorical", "categorical_w_probabilities"):
            return s["values"][int(x)]
        if kind == "int_uniform":
            return int(x)
        if kind in ("log_uniform", "q_log_uniform"):
            return self._finish(math.exp(x))
        if kind == "inv_log_uniform":
            return math.exp(-x)
        if kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
            v = NormalDist(s["mu"], s["sigma"]).inv_cdf(min(max(x, _EDGE), 1 - _EDGE))
            return self._finish(math.exp(v) if "log" in kind else v)
        return self._finish(x)

    def to_internal(self, value: Any) -> Any:
        """The coordinate of a value a run has (None: not a value this parameter can take)."""
        s, kind = self.spec, self.kind
        if kind in ("categorical", "categorical_w_probabilities"):
            for i, v in enumerate(s["values"]):
                if v == value and type(v) is type(value):
                    return i
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        space = self.space()
        try:
            if kind in ("log_uniform", "q_log_uniform", "log_normal", "q_log_normal"):
                x = math.log(value)
            elif kind == "inv_log_uniform":
                x = -math.log(value)
            else:
                x = float(value)
            if kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
                x = NormalDist(s["mu"], s["sigma"]).cdf(x)
        except ValueError:  # log of a value <= 0
            return None
        x = min(max(x, space.low), space.high)  # a quantized value may round past an end
        return int(round(x)) if space.kind == "int" else x

    def _finish(self, x: float) -> Any:
        """Quantize for the q_ distributions: ``round(x / q) * q``, an int when q is one."""
        q = self.spec.get("q")
        if q is None or not self.kind.startswith("q_"):
            return x
        v = round(x / q) * q
        return int(v) if isinstance(q, int) else round(v, 12)
