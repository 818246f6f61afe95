"""init/Run: config, summary, define_metric, console capture, run dirs, modes, settings, ids."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import history, journal_records, user_data

import trackwell
from trackwell.schema import ConfigUpdate, Console, DefineMetric, Exit, RunStart, SummaryUpdate
from trackwell.sdk import ConfigError, Settings, UsageError


def test_config_allow_val_change(offline_run: Callable[..., Any]) -> None:
    run = offline_run(config={"lr": 0.1, "opt": {"name": "adam"}})
    assert run.config.lr == 0.1 and run.config["opt"] == {"name": "adam"}
    assert trackwell.config is run.config
    run.config.batch = 32
    run.config["lr"] = 0.1  # same value: fine, nothing journaled
    with pytest.raises(ConfigError, match=r"'lr' already has value 0.1.*0.2.*allow_val_change"):
        run.config.lr = 0.2
    run.config.update({"lr": 0.2}, allow_val_change=True)
    run.finish()
    records = journal_records(run.journal_path())
    assert isinstance(records[0], RunStart) and records[0].config == {"lr": 0.1, "opt": {"name": "adam"}}
    assert [r.data for r in records if isinstance(r, ConfigUpdate)] == [{"batch": 32}, {"lr": 0.2}]


def test_summary_mirror_shows_the_last_rows_step_runtime_and_timestamp(offline_run: Callable[..., Any]) -> None:
    """Rows reach the journal without _runtime/_timestamp (derived from ts); the mirror still
    shows them, from the newest row, whichever way it was logged."""
    run = offline_run()
    for i in range(3):
        run.log({"a": i})
    run.log({"b": 1}, commit=False)
    run.log({"c": 2})  # merged into step 3
    run.log({"d": 3}, step=7)  # open until the next call
    run.log({"a": 9})  # step 7 again: merged and committed
    assert (run.summary["_step"], run.summary["a"], run.summary["b"], run.summary["c"]) == (7, 9, 1, 2)
    runtime, timestamp = run.summary["_runtime"], run.summary["_timestamp"]
    run.finish()
    rows = history(run.journal_path())
    assert [(r.step, user_data(r)) for r in rows] == [
        (0, {"a": 0}), (1, {"a": 1}), (2, {"a": 2}), (3, {"b": 1, "c": 2}), (7, {"d": 3, "a": 9})]
    assert (runtime, timestamp) == (rows[-1].runtime, rows[-1].ts) == (rows[-1].data["_runtime"],
                                                                       rows[-1].data["_timestamp"])


def test_summary_mirror_and_define_metric(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    run.define_metric("loss", summary="min")
    run.define_metric("val/*", summary="max")
    run.define_metric("acc", summary="mean")
    run.define_metric("hidden", summary="none")
    run.define_metric("score", summary="first,best,last", goal="maximize")
    for loss, val, acc in [(3.0, 0.1, 1.0), (1.0, 0.9, 2.0), (2.0, 0.5, 6.0)]:
        run.log({"loss": loss, "val/acc": val, "acc": acc, "last": loss, "hidden": 1, "score": val})
    assert run.summary["loss"] == {"min": 1.0}  # W&B's shape: one entry per op
    assert run.summary["val/acc"] == {"max": 0.9}
    assert run.summary["acc"] == {"mean": 3.0}
    assert run.summary["score"] == {"first": 0.1, "best": 0.9, "last": 0.5}
    assert run.summary["last"] == 2.0  # no definition: the plain newest value
    assert run.summary["_step"] == 2
    assert "hidden" not in run.summary
    run.summary["loss"] = 0.5  # pinned: later history no longer moves it
    run.log({"loss": 0.1})
    assert run.summary.loss == 0.5
    del run.summary["last"]
    assert "last" not in run.summary
    with pytest.raises(UsageError, match="summary op 'median' is not one of"):
        run.define_metric("x", summary="median")
    with pytest.raises(UsageError, match="goal='up' is not one of min, max"):
        run.define_metric("x", summary="best", goal="up")
    run.finish()
    records = journal_records(run.journal_path())
    assert [(r.name, r.summary) for r in records if isinstance(r, DefineMetric)][:2] == [
        ("loss", "min"), ("val/*", "max")]
    updates = [r for r in records if isinstance(r, SummaryUpdate)]
    assert [(u.update, u.remove) for u in updates] == [({"loss": 0.5}, []), ({}, ["last"])]


def test_console_capture_lands_in_journal(offline_run: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    run = offline_run(settings={"console": "auto"})
    print("hello from training")
    print("epoch 1", end="")
    print(" done")
    sys.stderr.write("progress 10%\rprogress 100%\n")
    sys.stdout.write("unterminated")
    run.finish()
    assert not isinstance(sys.stdout, type(run))  # restored
    out = capsys.readouterr()
    assert "hello from training" in out.out and "progress 100%" in out.err  # still printed
    lines = [(r.stream, line) for r in journal_records(run.journal_path()) if isinstance(r, Console)
             for line in r.lines]
    assert lines == [("stdout", "hello from training"), ("stdout", "epoch 1 done"),
                     ("stderr", "progress 100%"), ("stdout", "unterminated")]


def test_run_dir_layout(offline_run: Callable[..., Any], tmp_path: Path) -> None:
    run = offline_run(id="abc_123")
    root = Path(run.dir).parent
    assert root.parent == tmp_path / "trackwell"
    assert root.name.startswith("offline-run-") and root.name.endswith("-abc_123")
    assert Path(run.dir).name == "files" and (root / "logs").is_dir()
    assert run.journal_path() == root / "run-abc_123.twj"
    latest = tmp_path / "trackwell" / "latest-run"
    assert latest.resolve() == root.resolve()
    run.finish()
    assert isinstance(journal_records(run.journal_path())[-1], Exit)


def test_disabled_mode(tmp_path: Path, offline_run: Callable[..., Any]) -> None:
    run = offline_run(mode="disabled", config={"a": 1})
    assert run.disabled and trackwell.run is run
    run.log({"x": 1})
    trackwell.log({"x": 2})
    run.config.b = 2
    run.summary["s"] = 3
    assert run.summary["s"] == 3 and run.config.b == 2
    run.define_metric("x", summary="max")
    run.finish()
    assert trackwell.run is None
    assert not (tmp_path / "trackwell").exists()


def test_module_globals_reinit_and_context_manager(offline_run: Callable[..., Any],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first = offline_run()
    assert trackwell.run is first and trackwell.summary is first.summary
    again = trackwell.init(mode="offline", dir=Path(first.dir).parents[2])  # reinit="default": W&B's return_previous
    assert again is first
    assert f"run {first.id} is active and reinit='default': returning it" in capsys.readouterr().err
    with pytest.raises(RuntimeError), offline_run() as second:  # reinit finishes `first`
        assert first._finished and trackwell.run is second
        raise RuntimeError("boom")
    assert trackwell.run is None and trackwell.config is None
    exits = [r for r in journal_records(second.journal_path()) if isinstance(r, Exit)]
    assert [e.exit_code for e in exits] == [1]


def test_settings_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKWELL_PROJECT", "env-project")
    monkeypatch.setenv("TRACKWELL_MODE", "offline")
    monkeypatch.setenv("TRACKWELL_FINISH_TIMEOUT", "7")
    s = Settings(entity="from-settings").resolve(project=None)
    assert (s.project, s.entity, s.mode, s.finish_timeout) == ("env-project", "from-settings", "offline", 7.0)
    assert Settings().resolve(project="arg").project == "arg"
    monkeypatch.delenv("TRACKWELL_PROJECT")
    assert Settings().resolve().project == "uncategorized"
    with pytest.raises(UsageError, match="flush_interval"):
        Settings(flush_interval=5).resolve()
    with pytest.raises(UsageError, match="mode='cloud'"):
        Settings(mode="cloud").resolve()


def test_run_ids(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    assert len(run.id) == 8 and run.id.isalnum() and run.id == run.id.lower()
    with pytest.raises(UsageError, match=r"contains ' ', '/'"):
        offline_run(id="bad id/x")


def _python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_import_is_light(tmp_path: Path) -> None:
    code = ("import sys, trackwell\n"
            "heavy = [m for m in ('httpx', 'numpy', 'msgspec', 'rich', 'trackwell.sdk', 'typing') "
            "if m in sys.modules]\n"
            "print(heavy)\n"
            "trackwell.init(mode='offline', settings={'quiet': True}).finish()\n"
            "print('httpx' in sys.modules)")
    out = _python(code, tmp_path).stdout.split()
    assert out == ["[]", "False"]


def test_uncaught_exception_finishes_with_exit_code_1(tmp_path: Path) -> None:
    code = ("import trackwell\n"
            "trackwell.init(mode='offline', settings={'quiet': True})\n"
            "trackwell.log({'a': 1})\n"
            "raise SystemError('crash')\n")
    proc = _python(code, tmp_path)
    assert "SystemError: crash" in proc.stderr  # the previous excepthook still ran
    (journal,) = (tmp_path / "trackwell").glob("offline-run-*/run-*.twj")
    records = journal_records(journal)
    assert isinstance(records[-1], Exit) and records[-1].exit_code == 1
    stderr = [line for r in records if isinstance(r, Console) and r.stream == "stderr" for line in r.lines]
    assert "SystemError: crash" in stderr  # the traceback is part of the run's console log
