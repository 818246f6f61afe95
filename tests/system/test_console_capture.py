"""Console capture at the file-descriptor level (``console="redirect"``, what ``auto`` picks for
a process whose fds 1/2 are its real outputs): Python's prints, a C-level ``os.write(1, ...)``,
a shell command and a child process all reach the run's console log in order, while the
original stdout/stderr still receive everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servers import http
from system_helpers import run_script

SCRIPT = """
    import os, subprocess, sys, trackwell
    run = trackwell.init(project="console", settings={{"base_url": "{url}", "console": "{mode}"}})
    print("RUN", run.id, flush=True)
    print("python print")
    sys.stdout.flush()
    os.write(1, b"c-level write\\n")
    os.system("echo from a shell")
    subprocess.run([sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"])
    for i in range(5):
        sys.stdout.write(f"\\rprogress {{i * 25}}%")
        sys.stdout.flush()
    print()
    os.write(2, "utf-8 ✓ on stderr\\n".encode())
    os.write(1, b"last line without newline")
"""


def _console(url: str, path: str) -> list[tuple[str, str]]:
    r = http.get(f"{url}/api/v1/runs/{path}/console", timeout=30)
    assert r.status_code == 200, r.text
    return [(line["stream"], line["text"]) for line in r.json()["lines"]]


def _run(server: Any, script_dir: Path, mode: str) -> tuple[list[tuple[str, str]], str, str]:
    done = run_script(SCRIPT.format(url=server.url, mode=mode), script_dir, TRACKWELL_DISABLE_STATS="1",
                      TRACKWELL_DISABLE_META="1", TRACKWELL_QUIET="1")
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    run_id = out.split("RUN ")[1].split()[0]
    return _console(server.url, f"{server.entity}/console/{run_id}"), out, err


def test_redirect_captures_c_level_and_subprocess_output_in_order(server: Any, script_dir: Path) -> None:
    lines, out, err = _run(server, script_dir, "redirect")
    stdout = [text for stream, text in lines if stream == "stdout"]
    assert stdout[1:] == ["python print", "c-level write", "from a shell", "child out", "progress 100%",
                          "last line without newline"]
    assert [text for stream, text in lines if stream == "stderr"] == ["child err", "utf-8 ✓ on stderr"]
    # the terminal still got all of it, the progress bar's redraws included
    assert "c-level write\nfrom a shell\nchild out\n" in out and "progress 50%\rprogress 75%" in out
    assert out.endswith("last line without newline") and "child err\nutf-8 ✓ on stderr\n" in err


def test_auto_is_redirect_for_a_real_process(server: Any, script_dir: Path) -> None:
    lines, _, _ = _run(server, script_dir, "auto")
    assert ("stdout", "c-level write") in lines and ("stdout", "child out") in lines


def test_wrap_sees_only_python_streams(server: Any, script_dir: Path) -> None:
    lines, out, _ = _run(server, script_dir, "wrap")
    texts = [text for _, text in lines]
    assert "python print" in texts and "progress 100%" in texts
    assert "c-level write" not in texts and "child out" not in texts  # fds 1/2 are not read in wrap mode
    assert "c-level write" in out  # still printed


def test_off_records_nothing(server: Any, script_dir: Path) -> None:
    lines, out, _ = _run(server, script_dir, "off")
    assert lines == [] and "python print" in out
