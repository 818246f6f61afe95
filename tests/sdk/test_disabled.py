"""mode="disabled" is a real run object that records nothing and leaves the process alone
(issue 7, finding 5: an uncaught exception used to print an error from sys.excepthook)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import trackwell
from trackwell.sdk import DisabledRun, Run, UsageError

_RAISING_SCRIPT = """
import os
import trackwell

if os.environ.get("WITH_RUN"):
    run = trackwell.init(mode="disabled", config={"lr": 0.1})
    run.log({"loss": 1.0})


def train():
    raise ValueError("boom in training")


train()
"""


def _run_script(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(code)
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_uncaught_exception_prints_exactly_pythons_traceback(tmp_path: Path) -> None:
    plain = _run_script(tmp_path, _RAISING_SCRIPT)
    disabled = _run_script(tmp_path, _RAISING_SCRIPT, WITH_RUN="1")
    assert plain.stderr.endswith("ValueError: boom in training\n")
    assert (disabled.returncode, disabled.stderr) == (plain.returncode, plain.stderr)
    assert not (tmp_path / "trackwell").exists()


def test_disabled_run_installs_no_hooks(tmp_path: Path) -> None:
    code = ("import builtins, signal, sys, trackwell\n"
            "before = (sys.excepthook, sys.exit, builtins.SystemExit, signal.getsignal(signal.SIGTERM))\n"
            "trackwell.init(mode='disabled')\n"
            "after = (sys.excepthook, sys.exit, builtins.SystemExit, signal.getsignal(signal.SIGTERM))\n"
            "print(before == after)\n")
    out = _run_script(tmp_path, code)
    assert out.stdout.strip() == "True", out.stderr


def test_disabled_run_is_its_own_class_with_the_whole_api(offline_run: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    run = offline_run(mode="disabled", name="quiet", tags=["a"], config={"lr": 0.1})
    assert type(run) is DisabledRun and Run not in type(run).__mro__  # no skipped Run.__init__
    assert isinstance(run, trackwell.Run) and run.disabled and not run.offline
    assert (run.name, run.tags, run.step, trackwell.run) == ("quiet", ("a",), 0, run)
    run.log({"x": 1}, step=5)
    run.config.update({"batch": 32})
    run.summary.update({"best": 0.5})
    run.define_metric("x", summary="max")
    run.mark_preempting()
    run.name = "renamed"
    assert (run.name, run.config.batch, run.summary["best"]) == ("renamed", 32, 0.5)
    with pytest.raises(UsageError, match="summary op 'median' is not one of"):
        run.define_metric("x", summary="min,median")
    with pytest.raises(UsageError, match="no journal"):
        run.journal_path()
    assert Path(run.dir).is_dir()
    with pytest.raises(RuntimeError), run:
        raise RuntimeError("inside the run")
    assert trackwell.run is None
    assert not (tmp_path / "trackwell").exists()
