"""The CLI agent's command line: W&B's macros expanded for one run's parameters; the parameter
file and the SDK's side of it (sweep values over init's config)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from trackwell.sdk.agent._command import expand
from trackwell.sdk.agent._params import merged, read_param_file, sweep_init_args, write_param_file

PARAMS = {"lr": 0.01, "layers": 3, "amp": True, "ema": False, "opt": {"name": "adam"}, "sizes": [1, 2]}


def test_default_command(tmp_path: Path) -> None:
    assert expand(None, "train.py", {"lr": 0.01, "n": 2}, tmp_path / "a.json") == [
        "/usr/bin/env", sys.executable, "train.py", "--lr=0.01", "--n=2"]


def test_every_macro(tmp_path: Path) -> None:
    command = ["${env}", "${interpreter}", "${program}", "${args}", "--", "${args_no_hyphens}", "--",
               "${args_no_boolean_flags}", "--", "${args_json}", "--cfg=${args_json_file}"]
    out = expand(command, "t.py", PARAMS, tmp_path / "args.json")
    first = out.index("--")
    assert out[:first] == ["/usr/bin/env", sys.executable, "t.py", "--lr=0.01", "--layers=3", "--amp=True",
                           "--ema=False", '--opt={"name": "adam"}', "--sizes=[1, 2]"]
    rest = out[first + 1:]
    second = rest.index("--")
    assert rest[:second] == ["lr=0.01", "layers=3", "amp=True", "ema=False", 'opt={"name": "adam"}', "sizes=[1, 2]"]
    rest = rest[second + 1:]
    third = rest.index("--")
    assert rest[:third] == ["--lr=0.01", "--layers=3", "--amp", '--opt={"name": "adam"}', "--sizes=[1, 2]"]
    assert json.loads(rest[third + 1]) == PARAMS
    assert rest[third + 2] == f"--cfg={tmp_path / 'args.json'}" and json.loads((tmp_path / "args.json").read_text()) == PARAMS


def test_nothing_to_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither 'program' nor 'command'"):
        expand(None, None, {}, tmp_path / "a.json")


def test_param_file_round_trip_and_init_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_param_file(tmp_path, "sw1", "run1", PARAMS)
    assert path == tmp_path / "sweep-sw1" / "config-run1.yaml"
    assert json.loads(path.read_text())["lr"] == {"value": 0.01}
    assert read_param_file(path) == PARAMS
    wandb_style = tmp_path / "w.yaml"
    wandb_style.write_text("lr:\n  value: 0.5\nwandb_version: 1\n")
    assert read_param_file(wandb_style) == {"lr": 0.5, "wandb_version": 1}
    monkeypatch.setenv("TRACKWELL_SWEEP_PARAM_PATH", str(path))
    monkeypatch.setenv("TRACKWELL_RUN_ID", "run1")
    monkeypatch.setenv("TRACKWELL_PROJECT", "sweeps")
    monkeypatch.delenv("TRACKWELL_ENTITY", raising=False)
    project, entity, run_id, resume, config = sweep_init_args("mine", None, None, None,
                                                              {"lr": 1.0, "opt": {"beta": 0.9}, "epochs": 5})
    assert (project, entity, run_id, resume) == ("sweeps", None, "run1", "allow")
    assert config == {**PARAMS, "opt": {"name": "adam", "beta": 0.9}, "epochs": 5}
    assert merged({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
