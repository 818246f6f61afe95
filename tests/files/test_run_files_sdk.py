"""run.save / trackwell.save and run.dir end to end against a real server: online, offline +
`trackwell sync`, the same bytes stored once, and an upload killed (-9) mid-file then resumed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from servers import LiveServer, http

import trackwell
from trackwell.sdk import UsageError
from trackwell.sdk.files import pending
from trackwell.sdk.journal import synced_path


def _init(tmp_path: Path, server: LiveServer, **kwargs: Any) -> Any:
    settings = {"quiet": True, "console": "off", "base_url": server.url, **kwargs.pop("settings", {})}
    return trackwell.init(dir=tmp_path / "runs", settings=settings, reinit=True, **kwargs)


def _sync(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_save_policies_and_run_dir_online(live_server: LiveServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "ckpt").mkdir(parents=True)
    monkeypatch.chdir(work)
    (work / "ckpt" / "a.pt").write_bytes(b"A" * 1000)
    (work / "ckpt" / "b.pt").write_bytes(b"B" * 2000)
    (work / "notes.txt").write_text("first")
    (work / "late.txt").write_text("at the end")
    run = _init(tmp_path, live_server, project="files")
    saved = run.save("ckpt/*.pt", policy="now")
    assert sorted(Path(p).relative_to(run.dir).as_posix() for p in saved) == ["ckpt/a.pt", "ckpt/b.pt"]
    trackwell.save(str(work / "notes.txt"))  # absolute: the name is the file's own
    run.save("late.txt", policy="end")
    (work / "ckpt" / "a.pt").write_bytes(b"changed")  # "now" kept the bytes as they were
    (work / "notes.txt").write_text("second, longer")  # "live": the final content goes up
    Path(run.dir, "direct.json").write_text('{"written": "into run.dir"}')
    run.log({"x": 1.0})
    run.finish()
    assert synced_path(run.journal_path()).exists() and pending(Path(run.dir).parent) == []
    with pytest.raises(UsageError, match="is finished"):
        run.save("late.txt")

    api = trackwell.Api(base_url=live_server.url)
    remote = api.run(f"{live_server.entity}/files/{run.id}")
    files = {f.name: f for f in remote.files()}
    assert sorted(files) == ["ckpt/a.pt", "ckpt/b.pt", "direct.json", "late.txt", "notes.txt"]
    assert all(f.uploaded for f in files.values())
    assert files["ckpt/a.pt"].digest == hashlib.sha256(b"A" * 1000).hexdigest()
    out = tmp_path / "out"
    assert files["ckpt/a.pt"].download(out).read_bytes() == b"A" * 1000
    assert remote.file("notes.txt").download(out).read_text() == "second, longer"
    assert files["direct.json"].read() == b'{"written": "into run.dir"}'
    with pytest.raises(FileExistsError):
        files["ckpt/a.pt"].download(out)
    (out / "ckpt" / "a.pt").write_bytes(b"local edit")
    assert files["ckpt/a.pt"].download(out, replace=True).read_bytes() == b"A" * 1000


def test_offline_then_sync_and_same_bytes_stored_once(live_server: LiveServer, tmp_path: Path) -> None:
    blob = os.urandom(300_000)
    (tmp_path / "model.bin").write_bytes(blob)
    ids = []
    for _ in range(3):
        run = _init(tmp_path, live_server, project="off", mode="offline")
        run.save(str(tmp_path / "model.bin"), policy="now")
        run.finish()
        ids.append(run.id)
        assert len(pending(Path(run.dir).parent)) == 1  # staged, waiting for sync
    result = _sync(tmp_path / "runs", "--base-url", live_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    for run_id in ids:
        got = http.get(f"{live_server.url}/api/v1/runs/{live_server.entity}/off/{run_id}/files/model.bin")
        assert got.content == blob
    stored = [p for p in (live_server.data_dir / "blobs").rglob("*") if p.is_file() and ".staging" not in p.parts]
    assert [p.name for p in stored] == [hashlib.sha256(blob).hexdigest()]  # one copy for three runs
    assert all(not pending(p) for p in (tmp_path / "runs" / "trackwell").glob("offline-run-*"))
    assert _sync(tmp_path / "runs", "--base-url", live_server.url).returncode == 0  # nothing left: a second sync is a no-op


_UPLOAD_SLOWLY = r"""
import sys, time
from pathlib import Path
from trackwell.transport import Client
from trackwell.transport import _files
from trackwell.sdk.files import upload_pending

real = Client.request
def slow(self, method, path, **kw):
    if "/uploads/" in path and method == "PUT":
        print("part", kw["params"]["offset"], flush=True)
        time.sleep(0.3)
    return real(self, method, path, **kw)
Client.request = slow
_files.SMALL = _files.PART_BYTES = 64 * 1024  # many parts for a small test file
client = Client(sys.argv[1])
upload_pending(client, sys.argv[2], "kill", Path(sys.argv[3]))
"""


def test_kill_9_mid_upload_then_sync_resumes(live_server: LiveServer, tmp_path: Path) -> None:
    blob = os.urandom(2 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(blob)
    run = _init(tmp_path, live_server, project="kill", mode="offline")
    run.save(str(tmp_path / "big.bin"), policy="now")
    run.finish()
    root = Path(run.dir).parent
    child = subprocess.Popen([sys.executable, "-c", _UPLOAD_SLOWLY, live_server.url, live_server.entity, str(root)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    parts = [child.stdout.readline() for _ in range(4)]  # four parts on their way
    child.kill()
    child.wait()
    assert all(p.startswith("part") for p in parts)
    digest = hashlib.sha256(blob).hexdigest()
    state = root / "staged" / f"{digest}.upload"
    assert state.exists()  # the upload's id, for the resume
    upload_id = json.loads(state.read_text())["upload_id"]
    held = http.get(f"{live_server.url}/api/v1/projects/{live_server.entity}/kill/uploads/{upload_id}").json()
    assert held["offset"] >= 3 * 64 * 1024  # sync sends only the rest
    before = http.post(f"{live_server.url}/api/v1/projects/{live_server.entity}/kill/blobs/missing",
                       json={"digests": [digest]}).json()["missing"]
    assert before == [digest]  # a partial upload is not a blob
    started = time.monotonic()
    result = _sync(root, "--base-url", live_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    got = http.get(f"{live_server.url}/api/v1/runs/{live_server.entity}/kill/{run.id}/files/big.bin")
    assert got.content == blob and time.monotonic() - started < 60
    assert not state.exists() and pending(root) == []


def test_live_files_are_recorded_again_when_they_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackwell.schema import FileSaved
    from trackwell.sdk.files import _saver
    from trackwell.sdk.journal import JournalReader

    monkeypatch.setattr(_saver, "LIVE_INTERVAL", 0.1)
    log = tmp_path / "train.log"
    log.write_text("epoch 1\n")
    run = trackwell.init(project="live", dir=tmp_path / "runs", mode="offline", reinit=True,
                         settings={"quiet": True, "console": "off"})
    run.save(str(log))  # live: now, on every change, and at the end
    time.sleep(0.3)
    log.write_text("epoch 1\nepoch 2\n")
    deadline = time.monotonic() + 10
    staged = Path(run.dir).parent / "staged"
    while len(list(staged.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.finish()
    saved = [r for r in JournalReader(run.journal_path()).records() if isinstance(r, FileSaved)]
    assert [r.name for r in saved] == ["train.log", "train.log"]  # unchanged at finish: not again
    assert [r.size for r in saved] == [len("epoch 1\n"), len("epoch 1\nepoch 2\n")]
