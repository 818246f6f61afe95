"""End to end against a real `trackwell server` subprocess: online delivery, offline + sync,
idempotent sync, an unreachable server, and kill -9 mid-upload."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import get_run, history, journal_records, scan_rows

import trackwell
from trackwell.schema import Console
from trackwell.sdk import TrackwellWarning
from trackwell.sdk.journal import read_ack, synced_path


def _sync(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def _init(tmp_path: Path, **kwargs: Any) -> Any:
    settings = {"quiet": True, **kwargs.pop("settings", {})}
    return trackwell.init(dir=tmp_path, settings=settings, reinit=True, **kwargs)


def test_online_run_is_delivered(live_server: Any, tmp_path: Path) -> None:
    run = _init(tmp_path, project="e2e", config={"lr": 0.01}, tags=["a"],
                settings={"base_url": live_server.url})
    assert run.name and run.name != run.id  # the server's display name
    print("training starts")
    for i in range(200):
        run.log({"loss": 1.0 / (i + 1), "nested": {"acc": i}, "nan": float("nan")})
    run.summary["best"] = 42
    run.finish()
    journal = run.journal_path()
    assert synced_path(journal).exists()
    assert read_ack(journal) == journal_records(journal)[-1].seq
    info = get_run(live_server.url, live_server.entity, "e2e", run.id)
    assert (info["state"], info["exit_code"], info["name"]) == ("finished", 0, run.name)
    assert info["config"] == {"lr": 0.01} and info["tags"] == ["a"]
    assert info["summary"]["best"] == 42
    rows = scan_rows(live_server.url, live_server.entity, "e2e", run.id)
    assert [r["_step"] for r in rows] == list(range(200))
    assert rows[9]["loss"] == pytest.approx(0.1) and rows[9]["nested/acc"] == 9
    assert rows[0]["nan"] == "NaN"


def test_offline_run_then_sync_twice(live_server: Any, tmp_path: Path) -> None:
    run = _init(tmp_path, mode="offline", project="off")
    for i in range(2500):  # more than one batch
        run.log({"x": float(i)})
    run.finish()
    assert not synced_path(run.journal_path()).exists()

    first = _sync(tmp_path / "trackwell", "--base-url", live_server.url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"synced   default/off/{run.id}" in first.stdout
    assert synced_path(run.journal_path()).exists()
    rows = scan_rows(live_server.url, "default", "off", run.id)
    assert [r["x"] for r in rows] == [float(i) for i in range(2500)]
    assert get_run(live_server.url, "default", "off", run.id)["state"] == "finished"

    second = _sync(tmp_path / "trackwell", "--base-url", live_server.url)
    assert second.returncode == 0 and "already synced" in second.stdout
    third = _sync(run.journal_path(), "--base-url", live_server.url, "--include-synced")
    assert third.returncode == 0 and "synced" in third.stdout, third.stdout + third.stderr
    assert len(scan_rows(live_server.url, "default", "off", run.id)) == 2500


def test_dry_run_sends_nothing(live_server: Any, tmp_path: Path) -> None:
    run = _init(tmp_path, mode="offline", project="dry")
    run.log({"x": 1})
    run.finish()
    out = _sync(tmp_path / "trackwell", "--dry-run", "--base-url", live_server.url)
    assert out.returncode == 0 and f"would sync default/dry/{run.id}: 3 of 3 records" in out.stdout
    assert read_ack(run.journal_path()) == 0


def test_unreachable_server_keeps_data_for_sync(live_server: Any, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.warns(TrackwellWarning, match="cannot reach the server"):
        run = _init(tmp_path, project="down", settings={"base_url": dead, "finish_timeout": 0.5})
    for i in range(10):
        run.log({"x": i})
    with pytest.warns(TrackwellWarning, match="trackwell sync"):
        run.finish()
    assert not synced_path(run.journal_path()).exists()
    out = _sync(Path(run.dir).parent, "--base-url", live_server.url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert [r["x"] for r in scan_rows(live_server.url, "default", "down", run.id)] == list(range(10))


_LOGGER = """
import sys, time, trackwell
run = trackwell.init(project="kill", settings={"base_url": sys.argv[1], "quiet": True})
print(run.journal_path(), flush=True)
i = 0
while True:
    run.log({"x": float(i), "i": i})
    i += 1
    if i % 100 == 0:
        time.sleep(0.001)
"""


def test_kill_9_mid_upload_then_sync(live_server: Any, tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", _LOGGER, live_server.url], cwd=tmp_path,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    journal = Path(child.stdout.readline().strip())
    deadline = time.monotonic() + 30
    while read_ack(journal) < 50 and time.monotonic() < deadline:  # the uploader is busy
        time.sleep(0.05)
    first_ack = read_ack(journal)
    while read_ack(journal) == first_ack and time.monotonic() < deadline:  # and keeps going: kill mid-stream
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    acked_at_kill = read_ack(journal)
    journaled = history(journal)
    assert acked_at_kill > 0 and len(journaled) > 0

    out = _sync(journal, "--base-url", live_server.url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert synced_path(journal).exists()  # no Exit, but the writer is dead: its last record counts
    run_id = journal.name[len("run-"):-len(".twj")]
    rows = scan_rows(live_server.url, live_server.entity, "kill", run_id)
    assert [r["_step"] for r in rows] == [h.step for h in journaled]
    assert [r["i"] for r in rows] == [h.data["i"] for h in journaled]
    again = _sync(journal, "--base-url", live_server.url, "--include-synced")
    assert again.returncode == 0
    assert len(scan_rows(live_server.url, live_server.entity, "kill", run_id)) == len(journaled)
    console = [r for r in journal_records(journal) if isinstance(r, Console)]
    assert console  # the printed journal path was captured too
