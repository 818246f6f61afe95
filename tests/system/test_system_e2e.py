"""System metrics and run metadata from a real training process to a real server: samples on
their own time axis (the user's ``_step`` untouched), metadata with git, the script saved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from servers import get_run, http, scan_rows
from system_helpers import SRC, run_script

import trackwell

TRAIN = """
    import time, trackwell
    run = trackwell.init(project="sys", settings={{"base_url": "{url}", "stats_sampling_interval": 0.2,
                                                  "save_code": True}})
    for i in range(5):
        run.log({{"loss": 1.0 / (i + 1)}})
        time.sleep(0.25)
    print("RUN", run.id)
    run.finish()
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


def _get(url: str, path: str, suffix: str, **params: Any) -> dict[str, Any]:
    r = http.get(f"{url}/api/v1/runs/{path}{suffix}", params=params or None, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_samples_arrive_on_a_time_axis_without_moving_step(server: Any, script_dir: Path) -> None:
    _git(script_dir, "init", "-q")
    (script_dir / "train.py").write_text("")
    _git(script_dir, "add", "train.py")
    _git(script_dir, "commit", "-qm", "first")
    _git(script_dir, "remote", "add", "origin", "https://alice:s3cret-token@git.example.com/team/repo.git")
    done = run_script(TRAIN.format(url=server.url), script_dir)  # rewrites train.py: the tree is dirty
    assert done.returncode == 0, done.stderr.decode()
    run_id = done.stdout.decode().split("RUN ")[1].split()[0]
    path = f"{server.entity}/sys/{run_id}"

    system = _get(server.url, path, "/system")
    assert system["count"] >= 5  # one at start, one per 0.2 s over ~1.25 s, one at finish
    assert system["runtime"] == sorted(system["runtime"]) and system["runtime"][0] < 3  # at start (a loaded machine)
    for key in ("system/cpu_percent", "system/proc/cpu_percent", "system/proc/rss_mb", "system/memory/used_mb",
                "system/memory/available_mb", "system/disk/used_gb", "system/proc/open_files",
                "system/network/recv_mb_s", "system/disk/read_mb_s"):
        assert key in system["keys"], key
    rss = [v for v in system["series"]["system/proc/rss_mb"] if v is not None]
    assert len(rss) == system["count"] and all(5 < v < 2000 for v in rss)
    assert system["series"]["system/network/recv_mb_s"][0] is None  # a rate needs two readings
    few = _get(server.url, path, "/system", samples=2, keys="system/cpu_percent")
    assert len(few["runtime"]) == 2 and list(few["series"]) == ["system/cpu_percent"]
    assert few["runtime"] == [system["runtime"][0], system["runtime"][-1]]

    rows = scan_rows(server.url, path)  # the user's history: five steps, no system key
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    assert not any(k.startswith("system/") for r in rows for k in r)
    run = get_run(server.url, path)
    assert run["summary"]["_step"] == 4 and not any(k.startswith("system/") for k in run["summary"])

    api_run = trackwell.Api(base_url=server.url).run(path)  # the query API reads the same
    rows_api = api_run.system_metrics(keys=["system/proc/rss_mb"], pandas=False)
    assert [r["_runtime"] for r in rows_api] == system["runtime"] and all("system/proc/rss_mb" in r for r in rows_api)
    assert api_run.metadata == _get(server.url, path, "/metadata")["metadata"]

    meta = _get(server.url, path, "/metadata")["metadata"]
    assert meta["program"].endswith("train.py") and meta["python"] and meta["executable"]
    assert meta["host"] and meta["os"] and meta["cpu_count"] >= 1 and meta["memory_total_mb"] > 0
    git = meta["git"]
    assert len(git["commit"]) == 40 and git["dirty"] is True and git["branch"]
    assert git["remote"] == "https://git.example.com/team/repo.git"  # the token is not shown to readers
    assert meta["code_path"] == "code/train.py"
    # the saved script is one of the run's files (the files feature uploads what run.dir holds)
    files = {f["name"]: f for f in _get(server.url, path, "/files")["files"]}
    assert files["code/train.py"]["uploaded"] is True
    code = http.get(f"{server.url}/api/v1/runs/{path}/files/code/train.py", timeout=30)
    assert code.status_code == 200 and code.text == (script_dir / "train.py").read_text()
    assert meta["gpu_count"] == 0 or "gpus" in meta


def test_disabled_stats_send_no_samples(server: Any, script_dir: Path) -> None:
    done = run_script(TRAIN.format(url=server.url), script_dir, TRACKWELL_DISABLE_STATS="1",
                      TRACKWELL_DISABLE_META="1")
    assert done.returncode == 0, done.stderr.decode()
    run_id = done.stdout.decode().split("RUN ")[1].split()[0]
    path = f"{server.entity}/sys/{run_id}"
    assert _get(server.url, path, "/system")["count"] == 0
    assert _get(server.url, path, "/metadata")["metadata"] == {"code_path": "code/train.py"}  # save_code only


def test_unknown_run_is_404(server: Any) -> None:
    for suffix in ("/system", "/metadata"):
        r = http.get(f"{server.url}/api/v1/runs/{server.entity}/sys/nope{suffix}", timeout=10)
        assert r.status_code == 404 and "nope" in r.text


def test_offline_run_syncs_its_samples_and_metadata(server: Any, script_dir: Path) -> None:
    done = run_script(f"""
        import time, trackwell
        run = trackwell.init(entity="{server.entity}", project="sys", mode="offline",
                             settings={{"stats_sampling_interval": 0.2}})
        run.log({{"loss": 1.0}})
        time.sleep(0.7)
        print("RUN", run.id)
        run.finish()
    """, script_dir)
    assert done.returncode == 0, done.stderr.decode()
    run_id = done.stdout.decode().split("RUN ")[1].split()[0]
    synced = subprocess.run([sys.executable, "-m", "trackwell", "sync", str(script_dir / "trackwell"),
                             "--base-url", server.url], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": SRC})
    assert synced.returncode == 0, synced.stdout + synced.stderr
    path = f"{server.entity}/sys/{run_id}"
    system = _get(server.url, path, "/system")
    assert system["count"] >= 3 and "system/proc/rss_mb" in system["keys"]
    assert _get(server.url, path, "/metadata")["metadata"]["cpu_count"] >= 1
    assert [r["_step"] for r in scan_rows(server.url, path)] == [0]
