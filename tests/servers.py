"""Real `trackwell server` processes on free loopback ports, and reading runs back over REST.

A plain module (not a conftest) so every test directory and helper can import it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(data_dir: Path, *extra: str, port: int | None = None, timeout: float = 30) -> LiveServer:
    """Start `trackwell server` as a real subprocess and wait until /api/v1/health answers."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [sys.executable, "-m", "trackwell", "server", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir), *extra],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trackwell server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return LiveServer(url, data_dir, process, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"trackwell server did not become healthy in {timeout}s:\n{log_path.read_text()}")




def scan_rows(base_url: str, path: str, page_size: int = 1000) -> list[dict[str, Any]]:
    """Every history row the server holds for the run at ``entity/project/run_id``."""
    rows: list[dict[str, Any]] = []
    min_step: int | None = 0
    while min_step is not None:
        r = httpx.get(f"{base_url}/api/v1/runs/{path}/history/scan",
                      params={"min_step": min_step, "page_size": page_size}, timeout=30)
        r.raise_for_status()
        body = r.json()
        rows += body["rows"]
        min_step = body["next_step"]
    return rows


def get_run(base_url: str, path: str) -> dict[str, Any]:
    r = httpx.get(f"{base_url}/api/v1/runs/{path}", timeout=30)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]
