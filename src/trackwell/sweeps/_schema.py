"""The W&B sweep config schema: ``validate(config)`` checks every part and raises one
``SweepConfigError`` listing each problem with its path, or returns a ``SweepConfig``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trackwell.sweeps._params import DISTRIBUTIONS, GRIDDABLE, Param

METHODS = ("grid", "random", "bayes")
TOP_LEVEL = frozenset({"method", "apiVersion", "kind", "controller", "description", "program", "job", "image_uri",
                       "entity", "project", "command", "name", "run_cap", "metric", "parameters",
                       "early_terminate"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_IMPUTE = ("latest", "best", "worst")
_MAX_DEPTH = 8


class SweepConfigError(ValueError):
    """An invalid sweep config; ``problems`` holds ``(path, message)`` for every one found."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {path or '(top level)'}: {message}" for path, message in problems)
        super().__init__(f"invalid sweep config ({len(problems)} problem{'s' * (len(problems) != 1)}):\n{lines}")


@dataclass(frozen=True)
class Metric:
    name: str
    goal: str = "minimize"
    target: float | None = None
    impute: str = "worst"
    impute_while_running: str | bool = False

    def better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "maximize" else a < b

    def reached(self, value: float) -> bool:
        return self.target is not None and (value >= self.target if self.goal == "maximize"
                                            else value <= self.target)


@dataclass(frozen=True)
class Hyperband:
    bands: tuple[int, ...]
    eta: float
    strict: bool


@dataclass(frozen=True)
class SweepConfig:
    method: str
    params: tuple[Param, ...]
    metric: Metric | None = None
    early_terminate: Hyperband | None = None
    run_cap: int | None = None
    program: str | None = None
    command: tuple[str, ...] | None = None
    name: str | None = None
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def searchable(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.searchable)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def params(self, spec: Any, path: str, prefix: tuple[str, ...], out: list[Param]) -> None:
        if not isinstance(spec, Mapping):
            self.fail(path, "must be a mapping of parameter names to their specs")
            return
        if len(prefix) >= _MAX_DEPTH:
            self.fail(path, f"nested deeper than {_MAX_DEPTH} levels")
            return
        for name, value in spec.items():
            where = f"{path}.{name}"
            if not isinstance(name, str) or not _NAME.match(name):
                self.fail(where, "a parameter name must match ^[A-Za-z_][A-Za-z0-9_.-]*$")
                continue
            if isinstance(value, Mapping) and "parameters" in value:
                if set(value) != {"parameters"}:
                    self.fail(where, "a nested parameter holds only 'parameters'; move "
                                     f"{sorted(set(value) - {'parameters'})} into a parameter under it")
                self.params(value["parameters"], where + ".parameters", (*prefix, name), out)
                continue
            param = self.param(value, where, (*prefix, name))
            if param is not None:
                out.append(param)

    def param(self, spec: Any, path: str, names: tuple[str, ...]) -> Param | None:
        if not isinstance(spec, Mapping):
            self.fail(path, "must be a mapping such as {value: 1}, {values: [...]}, {min: 0, max: 1} or "
                            "{distribution: ..., ...}")
            return None
        kind = spec.get("distribution")
        if kind is None:
            if "value" in spec:
                kind = "constant"
            elif "values" in spec:
                kind = "categorical_w_probabilities" if "probabilities" in spec else "categorical"
            elif "min" in spec and "max" in spec:
                both_int = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max"))
                kind = "int_uniform" if both_int else "uniform"
            else:
                self.fail(path, "give 'value', 'values', 'min' and 'max', or a 'distribution'")
                return None
        elif kind == "categorical" and "probabilities" in spec:
            kind = "categorical_w_probabilities"
        if kind not in DISTRIBUTIONS:
            self.fail(path + ".distribution", f"unknown distribution {kind!r}; one of {', '.join(DISTRIBUTIONS)}")
            return None
        required, defaults = DISTRIBUTIONS[kind]
        allowed = {"distribution", *required, *defaults}
        before = len(self.problems)
        for key in spec:
            if key not in allowed:
                self.fail(f"{path}.{key}", f"not a key of distribution {kind}; it takes {', '.join(sorted(allowed))}")
        for key in required:
            if key not in spec:
                self.fail(f"{path}.{key}", f"distribution {kind} needs {key!r}")
        if len(self.problems) > before:
            return None
        full = {**defaults, **{k: v for k, v in spec.items() if k != "distribution"}}
        self.values(kind, full, path)
        return Param(names, kind, full) if len(self.problems) == before else None

    def values(self, kind: str, s: dict[str, Any], path: str) -> None:
        if kind.startswith("categorical"):
            values = s["values"]
            if not isinstance(values, list) or not values:
                self.fail(path + ".values", "must be a non-empty list")
            elif "probabilities" in s:
                probs = s["probabilities"]
                if (not isinstance(probs, list) or len(probs) != len(values)
                        or not all(_number(p) and p >= 0 for p in probs)):
                    self.fail(path + ".probabilities", f"must be {len(values)} non-negative numbers, one per value")
                elif abs(sum(probs) - 1.0) > 1e-6:
                    self.fail(path + ".probabilities", f"must sum to 1 (they sum to {sum(probs):g})")
            return
        for key in ("min", "max", "q", "mu", "sigma", "a", "b"):
            if key in s and not _number(s[key]):
                self.fail(f"{path}.{key}", f"must be a finite number, not {s[key]!r}")
        if any(p[0].startswith(path) for p in self.problems):
            return
        if kind == "int_uniform" and not all(isinstance(s[k], int) for k in ("min", "max")):
            self.fail(path, "int_uniform needs integer min and max")
        if "min" in s and s["min"] > s["max"]:
            self.fail(path, f"min ({s['min']}) is above max ({s['max']})")
        if kind.endswith("_values") and "min" in s and s["min"] <= 0:
            self.fail(path + ".min", f"{kind} takes values (not exponents): min must be > 0")
        for key in ("q", "sigma", "a", "b"):
            if key in s and s[key] <= 0:
                self.fail(f"{path}.{key}", "must be > 0")

    def metric(self, spec: Any) -> Metric | None:
        if not isinstance(spec, Mapping):
            self.fail("metric", "must be a mapping with at least 'name'")
            return None
        before = len(self.problems)
        for key in spec:
            if key not in ("name", "goal", "target", "impute", "impute_while_running"):
                self.fail(f"metric.{key}", "not a metric key; metric takes name, goal, target, impute, "
                                           "impute_while_running")
        if not isinstance(spec.get("name"), str) or not spec.get("name"):
            self.fail("metric.name", "required: the name of the logged metric to optimize")
        if spec.get("goal", "minimize") not in ("minimize", "maximize"):
            self.fail("metric.goal", "must be 'minimize' or 'maximize'")
        if "target" in spec and not _number(spec["target"]):
            self.fail("metric.target", "must be a finite number")
        if spec.get("impute", "worst") not in _IMPUTE:
            self.fail("metric.impute", "must be 'latest', 'best' or 'worst'")
        if spec.get("impute_while_running", False) not in (*_IMPUTE, False):
            self.fail("metric.impute_while_running", "must be 'latest', 'best', 'worst' or false")
        if len(self.problems) > before:
            return None
        return Metric(spec["name"], spec.get("goal", "minimize"), spec.get("target"), spec.get("impute", "worst"),
                      spec.get("impute_while_running", False))

    def hyperband(self, spec: Any) -> Hyperband | None:
        if not isinstance(spec, Mapping) or spec.get("type") != "hyperband":
            self.fail("early_terminate.type", "only {type: hyperband} is supported")
            return None
        before = len(self.problems)
        for key in spec:
            if key not in ("type", "min_iter", "max_iter", "s", "eta", "strict"):
                self.fail(f"early_terminate.{key}", "not a hyperband key; it takes min_iter, or max_iter and s, "
                                                    "and eta, strict")
        for key in ("min_iter", "max_iter", "s"):
            if key in spec and not (isinstance(spec[key], int) and not isinstance(spec[key], bool) and spec[key] > 0):
                self.fail(f"early_terminate.{key}", "must be an integer > 0")
        eta = spec.get("eta", 3)
        if not _number(eta) or eta <= 1:
            self.fail("early_terminate.eta", "must be a number > 1")
        if not isinstance(spec.get("strict", True), bool):
            self.fail("early_terminate.strict", "must be true or false")
        if "min_iter" not in spec and not ("max_iter" in spec and "s" in spec):
            self.fail("early_terminate", "hyperband needs min_iter, or both max_iter and s")
        if len(self.problems) > before:
            return None
        if "max_iter" in spec and "s" in spec:
            band, bands = float(spec["max_iter"]), []
            for _ in range(spec["s"]):
                band /= eta
                if band < 1:
                    break
                bands.append(int(band))
            bands.sort()
        else:
            bands = [int(spec["min_iter"] * eta ** k) for k in range(100) if spec["min_iter"] * eta ** k < 2**62]
        if not bands:
            self.fail("early_terminate", "these settings give no band: raise max_iter or s, or lower eta")
            return None
        return Hyperband(tuple(bands), float(eta), bool(spec.get("strict", True)))


def validate(config: Any) -> SweepConfig:
    """Check a sweep config (a dict as loaded from YAML); every problem is reported at once."""
    c = _Checker()
    if not isinstance(config, Mapping):
        raise SweepConfigError([("", f"a sweep config is a mapping, not {type(config).__name__}")])
    for key in config:
        if key not in TOP_LEVEL:
            c.fail(str(key), "not a sweep config key" + ("; 'metrics'/'scheduler' need method 'custom', which "
                                                          "trackwell does not run" if key in ("metrics", "scheduler")
                                                          else ""))
    method = config.get("method")
    if method not in METHODS:
        c.fail("method", f"required: one of {', '.join(METHODS)}" + (" ('custom' needs a custom controller, which "
                                                                       "trackwell does not run)" if method == "custom"
                                                                       else ""))
    params: list[Param] = []
    c.params(config.get("parameters", {}), "parameters", (), params)
    metric = c.metric(config["metric"]) if "metric" in config else None
    hyperband = c.hyperband(config["early_terminate"]) if "early_terminate" in config else None
    if method == "bayes" and "metric" not in config:
        c.fail("metric", "method bayes needs a metric to optimize")
    if hyperband is not None and "metric" not in config:
        c.fail("metric", "early_terminate needs a metric to compare runs by")
    if method == "grid":
        for p in params:
            if p.kind not in GRIDDABLE:
                c.fail(f"parameters.{p.name}", f"grid search cannot enumerate distribution {p.kind}; use values, "
                                               "int_uniform, q_uniform or a constant, or method random/bayes")
    if method == "bayes" and params and not any(p.searchable for p in params):
        c.fail("parameters", "bayes needs at least one parameter that is not a constant")
    run_cap = config.get("run_cap")
    if run_cap is not None and not (isinstance(run_cap, int) and not isinstance(run_cap, bool) and run_cap > 0):
        c.fail("run_cap", "must be an integer > 0")
    command = config.get("command")
    if command is not None and (not isinstance(command, list) or not command
                                or not all(isinstance(a, str) for a in command)):
        c.fail("command", "must be a non-empty list of strings, e.g. ['${env}', '${interpreter}', '${program}', "
                          "'${args}']")
    for key in ("program", "name", "description"):
        if key in config and not isinstance(config[key], str):
            c.fail(key, "must be a string")
    if c.problems:
        raise SweepConfigError(c.problems)
    return SweepConfig(method=str(method), params=tuple(params), metric=metric, early_terminate=hyperband,
                       run_cap=run_cap, program=config.get("program"),
                       command=tuple(command) if command else None, name=config.get("name"),
                       description=config.get("description"), raw=dict(config))
