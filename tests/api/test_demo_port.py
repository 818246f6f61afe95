"""`trackwell demo` on a taken port: it moves to a free one and says so, with the exact
`export TRACKWELL_BASE_URL=...` line, and that line points at the server it logged the run to."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path


def test_demo_on_a_taken_port_prints_the_export_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "TRACKWELL_BASE_URL"}
        out = subprocess.run([sys.executable, "-m", "trackwell", "demo", "--port", str(port), "--no-serve",
                              "--data-dir", str(tmp_path / "data")],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert f"port {port} on 127.0.0.1 is taken" in text, text
    exports = re.findall(r"export TRACKWELL_BASE_URL=(http://127\.0\.0\.1:(\d+))", text)
    assert len(exports) == 2 and exports[0] == exports[1], text  # at the start and in the summary
    url, new_port = exports[0]
    assert int(new_port) != port
    # the run the demo logged went to that server: its API line names the same URL
    assert re.search(rf"API:\s+{re.escape(url)}/api/v1/runs/\S+", text), text
    assert "is finished" in text


def test_server_on_a_taken_port_says_so_before_touching_anything(tmp_path: Path) -> None:
    config = tmp_path / "config"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**{k: v for k, v in os.environ.items() if k != "TRACKWELL_BASE_URL"},
               "TRACKWELL_CONFIG_DIR": str(config)}
        out = subprocess.run([sys.executable, "-m", "trackwell", "server", "--port", str(port),
                              "--data-dir", str(tmp_path / "data")],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    message = out.stderr
    assert f"port {port} on 127.0.0.1 is in use" in message and "Traceback" not in message, message
    suggested = re.search(r"trackwell server --port (\d+)`.*export TRACKWELL_BASE_URL=http://127\.0\.0\.1:(\d+)`",
                          message)
    assert suggested and suggested[1] == suggested[2] and int(suggested[1]) != port, message
    # no database made, no admin key saved for a URL another program answers
    assert not (tmp_path / "data" / "trackwell.db").exists() and not (config / "credentials.json").exists()
