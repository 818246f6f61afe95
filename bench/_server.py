"""A real `trackwell server` subprocess for the benchmarks (quiet, on a free loopback port).

The server authenticates like any other: a fresh one bootstraps an admin and saves its key in the
credentials file, which the SDK and ``auth_headers`` read. The file is the bench's own (in the
server's data dir, through ``TRACKWELL_CONFIG_DIR``, which children inherit): never the user's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from trackwell import _credentials


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int | None = None, *extra: str,
                 config_dir: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on ``data_dir`` (``extra``: more `trackwell server` options) and wait for
    /api/v1/health; returns (process, base URL). Credentials go to ``config_dir`` (default: in the
    data dir); benches with several servers pass one dir for all."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TRACKWELL_CONFIG_DIR"] = str(config_dir or data_dir / "config")
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen([sys.executable, "-m", "trackwell", "server", "--port", str(port),
                             "--data-dir", str(data_dir), "--log-level", "warning", *extra], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"trackwell server did not start; see {data_dir / 'server.log'}")


def _login(url: str) -> _credentials.Credential:
    stored = _credentials.load(url)
    if stored is None:
        raise RuntimeError(f"no API key for {url} in {_credentials.path()}: start the server with start_server")
    return stored


def auth_headers(url: str) -> dict[str, str]:
    """The Authorization header with the key the server's bootstrap saved for ``url``."""
    return {"Authorization": f"Bearer {_login(url).api_key}"}


def login_entity(url: str) -> str:
    """The admin's entity: where the SDK logs runs on ``url`` when given none."""
    return _login(url).entity or "default"


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(30)
