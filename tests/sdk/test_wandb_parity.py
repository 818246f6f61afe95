"""W&B's surface on the SDK side (issue 11): init arguments and settings, reinit modes, names,
environment variables, the terminal path, errors, and run fields changed after init."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import get_run, history, journal_records

import trackwell
from trackwell import errors
from trackwell.schema import DefineMetric, RunStart, RunUpdate
from trackwell.sdk import DisabledRun, Settings, UsageError
from trackwell.sdk.journal import synced_path


def _script(tmp_path: Path, code: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(code))
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
    return subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


# -- init arguments and settings ---------------------------------------------------------------

def test_every_wandb_init_argument_is_accepted_and_unknown_ones_are_named(
        offline_run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    run = offline_run(save_code=False, force=True, sync_tensorboard=True, monitor_gym=True, tensorboard=False,
                      anonymous="never", allow_val_change=True, config_exclude_keys=["secret"],
                      config={"lr": 0.1, "secret": "x"}, settings={"quiet": False})
    assert dict(run.config) == {"lr": 0.1}
    run.config.lr = 0.2  # allow_val_change=True at init: no ConfigError
    assert run.config.lr == 0.2
    err = capsys.readouterr().err
    assert "anonymous, force, monitor_gym, sync_tensorboard: W&B options with no effect" in err
    with pytest.raises(UsageError, match=r"init\(\) got unknown argument\(s\) colour"):
        trackwell.init(mode="offline", colour="red")
    with pytest.raises(UsageError, match="unknown setting.s. bogus_setting"):
        Settings(bogus_setting=1)


def test_wandb_settings_names_are_accepted(tmp_path: Path) -> None:
    s = Settings(start_method="thread", silent=True, x_label="rank-1", root_dir=str(tmp_path),
                 x_disable_viewer=True, heartbeat_seconds=12).resolve()
    assert (s.silent, s.label, s.dir, s.heartbeat_interval) == (True, "rank-1", str(tmp_path), 12)
    assert set(s._ignored) == {"start_method", "x_disable_viewer"}


def test_config_from_yaml_files(tmp_path: Path, offline_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cfg.yaml").write_text("wandb_version: 1\nlr:\n  desc: learning rate\n  value: 0.01\n"
                                       "layers: [64, 32]\nname: resnet\n")
    (tmp_path / "base.yaml").write_text("dropout: 0.5\nlr: 1.0\n")
    (tmp_path / "config-defaults.yaml").write_text("epochs: 3\n")
    monkeypatch.chdir(tmp_path)
    run = offline_run(config=str(tmp_path / "cfg.yaml"), config_include_keys=["lr", "layers"],
                      settings={"config_paths": [str(tmp_path / "base.yaml")]})
    assert dict(run.config) == {"epochs": 3, "dropout": 0.5, "lr": 0.01, "layers": [64, 32]}
    with pytest.raises(UsageError, match="not valid YAML"):
        (tmp_path / "bad.yaml").write_text("a: [1,\n")
        offline_run(config=str(tmp_path / "bad.yaml"))
    with pytest.raises(UsageError, match="cannot both be given"):
        offline_run(config={"a": 1}, config_include_keys=["a"], config_exclude_keys=["b"])


# -- reinit ------------------------------------------------------------------------------------

def test_reinit_modes_as_wandb_documents(tmp_path: Path) -> None:
    base = {"mode": "offline", "dir": tmp_path, "settings": {"quiet": True, "console": "off"}}
    first = trackwell.init(**base)
    try:
        assert trackwell.init(**base) is first  # "default" outside a notebook: return_previous
        assert trackwell.init(**base, reinit="return_previous") is first
        assert trackwell.init(**base, reinit=False) is first
        second = trackwell.init(**base, reinit="create_new")  # both live; trackwell.run stays
        assert second is not first and not first._finished and trackwell.run is first
        second.log({"x": 1})
        first.log({"x": 2})
        third = trackwell.init(**base, reinit="finish_previous")
        assert first._finished and second._finished and trackwell.run is third
        assert trackwell.init(**base, reinit=True) is not third and third._finished
        with pytest.raises(UsageError, match="reinit='bogus' is not one of 'default', 'return_previous'"):
            trackwell.init(**base, reinit="bogus")
        with pytest.raises(UsageError, match=r"init\(resume='must'\) while run"):
            trackwell.init(**base, id="abc", resume="must")
    finally:
        for run in list(trackwell.sdk._state.live()):
            run.finish(quiet=True)


# -- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"project": "a/b"}, r"project 'a/b' contains '/'; use 1 to 128 characters, none of / \\ # \? % :"),
    ({"project": "proj#1"}, "project 'proj#1' contains '#'"),
    ({"project": ["a", "b"]}, "a project is one name .a string., not a list"),
    ({"entity": "team:x"}, "entity 'team:x' contains ':'"),
    ({"id": "run 1"}, r"run id 'run 1' contains ' '; use 1 to 64 characters: letters, digits, '_', '-' and '.'"),
])
def test_bad_names_are_refused_at_init_with_the_rule(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        trackwell.init(mode="offline", dir=tmp_path, **kwargs)
    assert not (tmp_path / "trackwell").exists() or not list((tmp_path / "trackwell").glob("*/run-*"))


def test_the_server_refuses_bad_names_with_the_same_rule(live_server: Any) -> None:
    from servers import http

    from trackwell.schema import Batch, RunStart, encode

    batch = Batch(writer="w" * 8, records=[RunStart(seq=1, ts=time.time(), entity=live_server.entity,
                                                    project="a:b", run_id="r1")])
    answer = http.post(f"{live_server.url}/api/v1/runs/{live_server.entity}/a:b/r1/records", content=encode(batch),
                       headers={"Content-Type": "application/msgpack"})
    assert 400 <= answer.status_code < 500, answer.text
    assert "project 'a:b' contains ':'" in answer.text and "none of / \\\\ # ? % :" in answer.text


# -- environment -------------------------------------------------------------------------------

def test_wandb_env_vars_are_a_fallback_after_trackwell_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"WANDB_PROJECT": "wp", "WANDB_ENTITY": "we", "WANDB_MODE": "offline", "WANDB_NAME": "wandb-name",
           "TRACKWELL_NAME": "tw-name", "WANDB_TAGS": "a, b", "WANDB_NOTES": "n", "WANDB_RUN_GROUP": "g",
           "WANDB_JOB_TYPE": "train", "WANDB_RUN_ID": "wid1", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true",
           "WANDB_CONSOLE": "off", "WANDB_START_METHOD": "thread", "WANDB_BASE_URL": "https://api.wandb.ai"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    run = trackwell.init()
    try:
        assert (run.project, run.entity, run.mode, run.name, run.tags, run.notes, run.group, run.job_type, run.id) == (
            "wp", "we", "offline", "tw-name", ("a", "b"), "n", "g", "train", "wid1")
        assert run.settings.silent and run.settings.console == "off"
        assert run.settings.base_url == "http://127.0.0.1:8080"  # W&B's cloud URL is left to wandb
        assert str(tmp_path) in str(run.journal_path())
    finally:
        run.finish()
    monkeypatch.setenv("TRACKWELL_PROJECT", "tp")
    monkeypatch.setenv("WANDB_MODE", "")
    monkeypatch.setenv("WANDB_DISABLED", "true")
    s = Settings().resolve()
    assert (s.project, s.mode) == ("tp", "disabled")


def test_wandb_mode_disabled_never_touches_the_network(tmp_path: Path) -> None:
    from servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: any request would fail or wait
    result = _script(tmp_path, """
        import time, sys
        t = time.monotonic()
        import trackwell as wandb
        run = wandb.init(project="ci", config={"lr": 0.1})
        for i in range(100):
            wandb.log({"loss": 1 / (i + 1)})
        run.summary["best"] = 1
        wandb.finish()
        print(type(run).__name__, round(time.monotonic() - t, 2), "httpx" in sys.modules)
    """, env={"WANDB_MODE": "disabled", "WANDB_BASE_URL": dead})
    assert result.returncode == 0, result.stderr
    name, seconds, httpx_loaded = result.stdout.split()
    assert name == "DisabledRun" and httpx_loaded == "False" and float(seconds) < 5
    assert not (tmp_path / "trackwell").exists()


def test_the_directory_settings_file_sets_the_mode(tmp_path: Path) -> None:
    env = {"TRACKWELL_CONFIG_DIR": os.environ["TRACKWELL_CONFIG_DIR"]}
    for mode in ("disabled", "offline"):
        out = subprocess.run([sys.executable, "-m", "trackwell", mode], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, env={**os.environ, **env})
        assert out.returncode == 0 and f"mode = {mode}" in out.stdout, out.stderr
        assert f"mode = {mode}" in (tmp_path / "trackwell" / "settings").read_text()
    result = _script(tmp_path, """
        import trackwell as wandb
        run = wandb.init(project="p")
        print(run.mode)
        run.finish()
    """)
    assert result.stdout.strip() == "offline", result.stderr
    status = subprocess.run([sys.executable, "-m", "trackwell", "status"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert "mode:        offline" in status.stdout and "not synced:  1 journal(s)" in status.stdout, status.stderr
    online = subprocess.run([sys.executable, "-m", "trackwell", "online"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "WANDB_MODE": "offline"})
    assert "WANDB_MODE=offline is set in this shell and wins" in online.stdout
    assert Settings(dir=str(tmp_path)).resolve().mode == "online"


# -- the terminal path -------------------------------------------------------------------------

def test_filtered_warnings_do_not_hide_data_loss(tmp_path: Path) -> None:
    result = _script(tmp_path, """
        import warnings
        warnings.filterwarnings("ignore")
        import trackwell as wandb
        run = wandb.init(project="p", mode="offline", settings={"console": "off"})
        run.log({"ok": 1.0, "blob": object()})
        run.finish()
    """)
    assert result.returncode == 0, result.stderr
    assert "trackwell: WARNING log(): key 'blob' has a value of type builtins.object" in result.stderr
    assert result.stderr.count("key 'blob'") == 1  # once, not again through `warnings`
    quiet = _script(tmp_path, """
        import trackwell as wandb
        run = wandb.init(project="p", mode="offline", settings={"console": "off", "silent": True})
        run.log({"blob": object()})
        wandb.termerror("still said")
        run.finish()
    """)
    assert quiet.stderr.strip() == "trackwell: ERROR still said", quiet.stderr


def test_finish_with_a_failure_says_failed_and_an_unreachable_server_is_given_up_quickly(tmp_path: Path) -> None:
    from servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    result = _script(tmp_path, """
        import time
        import trackwell as wandb
        run = wandb.init(project="p", settings={"console": "off", "init_timeout": 1})
        run.log({"loss": 1.0})
        t = time.monotonic()  # init could not reach the server: the uploader starts out probing
        run.finish(exit_code=1)
        print(round(time.monotonic() - t, 1))
    """, env={"TRACKWELL_BASE_URL": dead})
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip()) < 5, result.stderr  # ~2 s: one probe, then the journal is enough
    assert "failed (exit code 1)" in result.stderr and "finished" not in result.stderr
    assert f"the server at {dead} cannot be reached" in result.stderr and "trackwell sync" in result.stderr


# -- errors ------------------------------------------------------------------------------------

def test_errors_have_wandbs_names_and_hierarchy() -> None:
    assert issubclass(errors.AuthenticationError, errors.CommError) and issubclass(errors.CommError, errors.Error)
    assert issubclass(errors.UsageError, errors.Error) and issubclass(errors.UnsupportedError, errors.UsageError)
    assert trackwell.errors is errors and trackwell.Error is errors.Error and UsageError is errors.UsageError
    from trackwell.transport import ServerError, TransportError

    assert issubclass(ServerError, errors.CommError) and issubclass(TransportError, errors.CommError)


# -- run fields after init ---------------------------------------------------------------------

def test_fields_changed_after_init_are_journaled_after_the_start(offline_run: Any) -> None:
    run = offline_run(name="first", tags=["a"])
    run.name = "second"
    run.tags = (*run.tags, "b")
    run.notes = "why"
    run.group = "g"
    run.job_type = "eval"
    run.display_name = "third"
    run.define_metric("val/*", step_metric="epoch", summary="max,last", hidden=True)
    run.finish()
    records = journal_records(run.journal_path())
    assert isinstance(records[0], RunStart) and records[0].name == "first"
    updates = [r for r in records if isinstance(r, RunUpdate)]
    assert [(u.name, u.tags, u.notes, u.group, u.job_type) for u in updates] == [
        ("second", None, None, None, None), (None, ["a", "b"], None, None, None), (None, None, "why", None, None),
        (None, None, None, "g", None), (None, None, None, None, "eval"), ("third", None, None, None, None)]
    (metric,) = [r for r in records if isinstance(r, DefineMetric)]
    assert (metric.step_metric, metric.step_sync, metric.hidden, metric.summary) == ("epoch", True, True, "max,last")


def test_renames_survive_online_and_offline_then_sync(live_server: Any, tmp_path: Path) -> None:
    run = trackwell.init(project="renames", dir=tmp_path, settings={"base_url": live_server.url, "quiet": True,
                                                                     "console": "off"})
    run.name = "renamed-at-once"  # before the start record has even left: it must still win
    run.tags = ["t1"]
    run.notes = "notes after init"
    run.log({"x": 1})
    run.finish()
    remote = get_run(live_server.url, live_server.entity, "renames", run.id)
    assert (remote["name"], remote["tags"], remote["notes"]) == ("renamed-at-once", ["t1"], "notes after init")

    off = trackwell.init(project="renames", mode="offline", dir=tmp_path,
                         settings={"base_url": live_server.url, "quiet": True, "console": "off"})
    off.name = "offline-name"
    off.group = "grp"
    off.log({"x": 1})
    off.finish()
    root = Path(off.journal_path()).parent
    out = subprocess.run([sys.executable, "-m", "trackwell", "sync", str(root)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TRACKWELL_BASE_URL": live_server.url})
    assert out.returncode == 0, out.stderr
    assert synced_path(off.journal_path()).exists()
    remote = get_run(live_server.url, live_server.entity, "renames", off.id)
    assert (remote["name"], remote["group"]) == ("offline-name", "grp")


def test_disabled_run_takes_the_same_calls(tmp_path: Path) -> None:
    run = trackwell.init(mode="disabled", dir=tmp_path)
    assert isinstance(run, DisabledRun) and run.get_url() is None
    run.name = "x"
    run.tags = "one"
    run.define_metric("a", step_metric="b", summary="first")
    assert (run.name, run.tags) == ("x", ("one",)) and run.log_code(str(tmp_path)) is None
    run.finish()


def test_step_sync_puts_the_step_metrics_last_value_in_the_row(offline_run: Any) -> None:
    run = offline_run()
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch")  # step_sync defaults to True with a step_metric
    run.define_metric("test/acc", step_metric="epoch", step_sync=False)
    run.log({"epoch": 1, "train/loss": 0.5})
    run.log({"val/acc": 0.7})
    run.log({"val/acc": 0.8, "epoch": 2})
    run.log({"test/acc": 0.1})
    run.log({"other": 1})
    run.finish()
    rows = [{k: v for k, v in r.data.items() if not k.startswith("_")} for r in history(run.journal_path())]
    assert rows == [{"epoch": 1, "train/loss": 0.5}, {"val/acc": 0.7, "epoch": 1}, {"val/acc": 0.8, "epoch": 2},
                    {"test/acc": 0.1}, {"other": 1}]


def test_wandb_api_key_never_shadows_a_trackwell_login(monkeypatch: pytest.MonkeyPatch) -> None:
    from servers import free_port

    from trackwell import _credentials

    logged_in, other = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    _credentials.save(logged_in, _credentials.Credential(api_key="tw_login", user="u", entity="u"))
    try:
        monkeypatch.setenv("WANDB_API_KEY", "wandb-cloud-key")
        assert Settings(base_url=logged_in).resolve().api_key is None  # the transport uses the login's key
        assert Settings(base_url=logged_in).resolve().entity == "u"
        assert Settings(base_url=other).resolve().api_key == "wandb-cloud-key"  # no login there: W&B's variable
        monkeypatch.setenv("TRACKWELL_API_KEY", "tw_env")
        assert Settings(base_url=other).resolve().api_key == "tw_env"
    finally:
        _credentials.remove(logged_in)


def test_quiet_hides_progress_but_not_problems(tmp_path: Path) -> None:
    result = _script(tmp_path, """
        import trackwell as wandb
        run = wandb.init(project="p", mode="offline", settings={"console": "off", "quiet": True})
        run.log({"blob": object()})
        run.finish()
    """)
    assert "offline run" not in result.stderr and "WARNING log(): key 'blob'" in result.stderr, result.stderr
