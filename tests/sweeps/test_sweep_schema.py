"""The sweep config schema: every W&B distribution validates, samples inside its support and maps
to and from the bayes search space; bad configs get one error naming every problem by path."""

from __future__ import annotations

import math
import random

import pytest

from trackwell.sweeps import DISTRIBUTIONS, SweepConfigError, validate

SPECS = {
    "uniform": {"min": -1.0, "max": 2.0},
    "int_uniform": {"min": 2, "max": 5},
    "q_uniform": {"min": 0.0, "max": 1.0, "q": 0.25},
    "log_uniform": {"min": -4.0, "max": 0.0},
    "log_uniform_values": {"min": 1e-4, "max": 1.0},
    "inv_log_uniform": {"min": 0.0, "max": 4.0},
    "inv_log_uniform_values": {"min": 1e-3, "max": 1.0},
    "q_log_uniform": {"min": 0.0, "max": 5.0, "q": 2},
    "q_log_uniform_values": {"min": 1.0, "max": 100.0, "q": 5},
    "normal": {"mu": 3.0, "sigma": 0.5},
    "q_normal": {"mu": 10.0, "sigma": 3.0, "q": 2},
    "log_normal": {"mu": 0.0, "sigma": 0.5},
    "q_log_normal": {"mu": 2.0, "sigma": 0.5, "q": 1},
    "beta": {"a": 2.0, "b": 5.0},
    "q_beta": {"a": 2.0, "b": 2.0, "q": 0.1},
    "categorical": {"values": ["a", "b", 3]},
    "categorical_w_probabilities": {"values": ["x", "y"], "probabilities": [0.9, 0.1]},
    "constant": {"value": {"nested": [1, 2]}},
}


def _support(kind: str, spec: dict, v: object) -> bool:
    if kind in ("uniform", "int_uniform"):
        return spec["min"] <= v <= spec["max"]  # type: ignore[operator]
    if kind == "q_uniform":
        return spec["min"] <= v <= spec["max"] and abs(v / spec["q"] - round(v / spec["q"])) < 1e-9  # type: ignore[operator]
    if kind == "log_uniform":
        return math.exp(spec["min"]) - 1e-12 <= v <= math.exp(spec["max"]) + 1e-12  # type: ignore[operator]
    if kind in ("log_uniform_values", "inv_log_uniform_values"):
        return spec["min"] * (1 - 1e-9) <= v <= spec["max"] * (1 + 1e-9)  # type: ignore[operator]
    if kind == "inv_log_uniform":
        return math.exp(-spec["max"]) - 1e-12 <= v <= math.exp(-spec["min"]) + 1e-12  # type: ignore[operator]
    if kind.startswith("q_"):
        return isinstance(v, type(spec["q"])) and abs(v / spec["q"] - round(v / spec["q"])) < 1e-6  # type: ignore[operator]
    if kind == "log_normal":
        return v > 0  # type: ignore[operator]
    if kind == "beta":
        return 0 <= v <= 1  # type: ignore[operator]
    if kind.startswith("categorical"):
        return v in spec["values"]
    if kind == "constant":
        return v == spec["value"]
    return isinstance(v, float)


def test_every_distribution_of_the_reference_is_covered() -> None:
    assert set(SPECS) == set(DISTRIBUTIONS)


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_distribution_samples_in_support_and_round_trips_the_search_space(kind: str) -> None:
    spec = SPECS[kind]
    explicit = {"distribution": kind, **spec}
    (param,) = validate({"method": "random", "parameters": {"p": explicit}}).params
    assert param.kind == kind
    rng = random.Random(7)
    values = [param.sample(rng) for _ in range(300)]
    assert all(_support(kind, spec, v) for v in values), [v for v in values if not _support(kind, spec, v)][:5]
    if kind == "constant":
        return
    space = param.space()
    for v in values[:50]:
        x = param.to_internal(v)
        assert x is not None and space.low <= x <= space.high if space.kind != "index" else 0 <= x < space.size
        back = param.to_value(x)
        if kind.startswith("categorical"):
            assert back == v
        elif not kind.startswith("q_"):  # a quantized value maps back to itself up to the rounding
            assert back == pytest.approx(v, rel=1e-9, abs=1e-12)


def test_distributions_have_the_right_shape() -> None:
    rng = random.Random(1)
    normal = validate({"method": "random", "parameters": {"p": {"distribution": "normal", "mu": 3.0, "sigma": 0.5}}})
    xs = [normal.params[0].sample(rng) for _ in range(4000)]
    assert sum(xs) / len(xs) == pytest.approx(3.0, abs=0.05)
    weighted = validate({"method": "random", "parameters": {"p": SPECS["categorical_w_probabilities"]}})
    picks = [weighted.params[0].sample(rng) for _ in range(2000)]
    assert picks.count("x") / len(picks) == pytest.approx(0.9, abs=0.03)
    logu = validate({"method": "random", "parameters": {"p": {"distribution": "log_uniform_values",
                                                               **SPECS["log_uniform_values"]}}})
    below = sum(logu.params[0].sample(rng) < 1e-2 for _ in range(4000)) / 4000
    assert below == pytest.approx(0.5, abs=0.05)  # half the mass below the geometric middle


def test_min_max_shorthand_is_int_uniform_for_ints_and_uniform_for_floats() -> None:
    cfg = validate({"method": "random", "parameters": {"i": {"min": 1, "max": 3}, "f": {"min": 1, "max": 3.0}}})
    assert [p.kind for p in cfg.params] == ["int_uniform", "uniform"]


def test_grid_values_follow_wandb() -> None:
    cfg = validate({"method": "grid", "parameters": {
        "i": {"min": 1, "max": 3}, "q": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25},
        "qi": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 5}, "c": {"value": 7}}})
    grids = {p.name: p.grid() for p in cfg.params}
    assert grids == {"i": [1, 2, 3], "q": [0.0, 0.25, 0.5, 0.75], "qi": [0, 5], "c": [7]}  # max excluded


def test_nested_parameters_flatten_to_paths() -> None:
    cfg = validate({"method": "grid", "parameters": {
        "opt": {"parameters": {"lr": {"values": [0.1]}, "inner": {"parameters": {"m": {"value": 0.9}}}}}}})
    assert sorted(p.path for p in cfg.params) == [("opt", "inner", "m"), ("opt", "lr")]


def test_every_problem_is_reported_with_its_path() -> None:
    with pytest.raises(SweepConfigError) as info:
        validate({
            "method": "grid", "bogus": 1, "run_cap": 0, "command": "python train.py",
            "metric": {"name": "loss", "goal": "up"},
            "early_terminate": {"type": "hyperband", "eta": 1},
            "parameters": {
                "a": {"distribution": "normal"}, "b": {"min": 3, "max": 1}, "c": {"values": []},
                "d": {"values": [1, 2], "probabilities": [0.5]}, "e": {"distribution": "nope"},
                "f": {"distribution": "q_uniform", "min": 0, "max": 1, "q": -1}, "g": {"min": 0},
                "1bad": {"value": 1}, "h": {"distribution": "log_uniform_values", "min": 0, "max": 1},
                "n": {"parameters": {"x": {"distribution": "beta", "a": "one"}}, "value": 2},
            }})
    paths = {path for path, _ in info.value.problems}
    assert {"bogus", "run_cap", "command", "metric.goal", "early_terminate.eta", "early_terminate",
            "parameters.a", "parameters.b", "parameters.c.values", "parameters.d.probabilities",
            "parameters.e.distribution", "parameters.f.q", "parameters.g", "parameters.1bad", "parameters.h.min",
            "parameters.n", "parameters.n.parameters.x.a"} <= paths
    message = str(info.value)
    assert message.startswith(f"invalid sweep config ({len(info.value.problems)} problems)")
    assert "parameters.a: grid search cannot enumerate distribution normal" in message


@pytest.mark.parametrize(("config", "path"), [
    ({"method": "bayes", "parameters": {"x": {"min": 0.0, "max": 1.0}}}, "metric"),
    ({"method": "random", "early_terminate": {"type": "hyperband", "min_iter": 3}}, "metric"),
    ({"method": "custom"}, "method"),
    ({"parameters": {}}, "method"),
    ({"method": "random", "metric": {"goal": "minimize"}}, "metric.name"),
    ({"method": "random", "metric": {"name": "l", "impute": "mean"}}, "metric.impute"),
    ({"method": "random", "metric": {"name": "l"}, "early_terminate": {"type": "hyperband", "max_iter": 9}},
     "early_terminate"),
    ({"method": "random", "metrics": [{"name": "a"}, {"name": "b"}]}, "metrics"),
])
def test_invalid_configs(config: dict, path: str) -> None:
    with pytest.raises(SweepConfigError) as info:
        validate(config)
    assert path in {p for p, _ in info.value.problems}


def test_hyperband_bands() -> None:
    with_max = validate({"method": "random", "metric": {"name": "l"},
                         "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 3, "eta": 3}})
    assert with_max.early_terminate is not None and with_max.early_terminate.bands == (1, 3, 9)
    with_min = validate({"method": "random", "metric": {"name": "l"},
                         "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2}})
    assert with_min.early_terminate is not None and with_min.early_terminate.bands[:4] == (2, 4, 8, 16)
