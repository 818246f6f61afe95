"""Console capture at the file-descriptor level (``console="redirect"``, what ``auto`` picks for
a process whose fds 1/2 are its real outputs): Python's prints, a C-level ``os.write(1, ...)``,
a shell command and a child process all reach the run's console log in order, while the
original stdout/stderr still receive everything."""

from __future__ import annotations

import os
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


TTY_SCRIPT = """
    import os, subprocess, sys, trackwell
    run = trackwell.init(mode="offline", settings={"console": "redirect", "quiet": True})
    print("stdout is a tty:", sys.stdout.isatty(), os.get_terminal_size(1).columns)
    subprocess.run([sys.executable, "-c", "import sys; print('child tty:', sys.stdout.isatty())"])
    os.write(1, b"c-level on a tty\\n")
    run.finish()
    print("after finish, tty:", sys.stdout.isatty())
"""


def test_a_terminal_stays_a_terminal(script_dir: Path) -> None:
    """Where fds 1/2 were a terminal the program still sees one (a pty, same width), and the
    real terminal gets the bytes as written."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    from trackwell.schema import Console
    from trackwell.sdk.journal import JournalReader

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 123, 0, 0))
    got = bytearray()

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every slave end closed
                return
            if not data:
                return
            got.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        done = run_script(TTY_SCRIPT, script_dir, stdout=slave, TRACKWELL_DISABLE_STATS="1",
                          TRACKWELL_DISABLE_META="1")
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)
    assert done.returncode == 0, done.stderr.decode()
    shown = got.decode().replace("\r\n", "\n")
    assert "stdout is a tty: True 123\nchild tty: True\nc-level on a tty\nafter finish, tty: True\n" in shown
    (journal,) = (script_dir / "trackwell").glob("offline-run-*/run-*.twj")
    lines = [line for r in JournalReader(journal).records() if isinstance(r, Console) for line in r.lines]
    assert lines == ["stdout is a tty: True 123", "child tty: True", "c-level on a tty"]


def test_last_line_and_traceback_at_exit_without_finish(script_dir: Path) -> None:
    """The process ends without finish(): atexit finishes the run, and the unterminated last
    line and the uncaught exception's traceback (written by Python after the excepthook) are in
    the run's console log."""
    from trackwell.schema import Console
    from trackwell.sdk.journal import JournalReader

    done = run_script("""
        import os, trackwell
        trackwell.init(mode="offline", settings={"console": "redirect", "quiet": True})
        print("before")
        os.write(1, b"no newline yet")
        raise RuntimeError("boom")
    """, script_dir, TRACKWELL_DISABLE_STATS="1", TRACKWELL_DISABLE_META="1")
    assert done.returncode == 1 and b"RuntimeError: boom" in done.stderr
    (journal,) = (script_dir / "trackwell").glob("offline-run-*/run-*.twj")
    lines = [(r.stream, line) for r in JournalReader(journal).records() if isinstance(r, Console) for line in r.lines]
    assert [text for stream, text in lines if stream == "stdout"] == ["before", "no newline yet"]
    assert ("stderr", "RuntimeError: boom") in lines
