"""Real `trackwell server` processes on free loopback ports, and reading runs back over REST.

Every server authenticates: a fresh one bootstraps an admin and saves its key in the credentials
file (the session's TRACKWELL_CONFIG_DIR, see conftest.py) for its URL. Tests send that key the way
a user's scripts would: the SDK reads the file, and raw HTTP goes through ``http`` below, which adds
the key stored for the URL's server.

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

from trackwell import _credentials


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_urls(port: int) -> list[str]:
    """The URLs a server on ``port`` saves its bootstrap key for (and a test may call it by)."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def api_key(base_url: str) -> str:
    """The key stored in the credentials file for the server at ``base_url``."""
    stored = _credentials.load(base_url)
    if stored is None:
        raise LookupError(f"no API key stored for {base_url} in {_credentials.path()}: start servers with "
                          "servers.start_server (it saves one), or servers.login(url, like=server_url) for a proxy's URL")
    return stored.api_key


def login_entity(base_url: str) -> str:
    """The entity of the login stored for ``base_url`` (the admin's own): the SDK's default entity."""
    stored = _credentials.load(base_url)
    if stored is None or not stored.entity:
        raise LookupError(f"no login with an entity stored for {base_url} in {_credentials.path()}")
    return stored.entity


def auth_headers(base_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key(base_url)}"}


def login(url: str, like: str) -> None:
    """Use the login stored for ``like`` at ``url`` too: what `trackwell login --host URL KEY` does
    with the same key (a proxy in front of that server, or its address while it is down)."""
    stored = _credentials.load(like)
    if stored is None:
        raise LookupError(f"no login stored for {like} in {_credentials.path()} to use for {url}")
    _credentials.save(url, stored)


class _AuthedHttp:
    """httpx's module functions, with the Authorization header of the URL's server added."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**auth_headers(url), **(kwargs.pop("headers", None) or {})}
        return httpx.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


http = _AuthedHttp()

# The key each database's first admin got, by the database (``--db`` URL or data dir): a server
# started later on the same database (a restart, another port, a shared PostgreSQL) does not
# bootstrap again, and its URL gets the key the way a user would `trackwell login --host` it.
_keys_by_database: dict[str, _credentials.Credential] = {}


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def api_key(self) -> str:
        return api_key(self.url)

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.url)

    @property
    def entity(self) -> str:
        """The admin's own entity: the SDK's default entity for this server."""
        return login_entity(self.url)

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


def _database_of(data_dir: Path, extra: tuple[str, ...]) -> str:
    args = list(extra)
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg.partition("=")[2]
    return str(data_dir.resolve())


def start_server(data_dir: Path, *extra: str, port: int | None = None, timeout: float = 30) -> LiveServer:
    """Start `trackwell server` as a real subprocess and wait until /api/v1/health answers; its
    admin's key is then stored for its URL (bootstrapped, or remembered for its database)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    for url in local_urls(port):  # a key of an earlier server on this port is not this one's
        _credentials.remove(url)
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
                _remember_login(url, port, _database_of(data_dir, extra), log_path)
                return LiveServer(url, data_dir, process, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"trackwell server did not become healthy in {timeout}s:\n{log_path.read_text()}")


def _remember_login(url: str, port: int, database: str, log_path: Path) -> None:
    stored = _credentials.load(url) or _keys_by_database.get(database)
    if stored is None:
        raise RuntimeError(f"the server at {url} neither bootstrapped an admin nor runs on a database this "
                           f"session knows a key for ({database}):\n{log_path.read_text()}")
    for each in local_urls(port):
        _credentials.save(each, stored)
    _keys_by_database[database] = stored


def scan_rows(base_url: str, path: str, page_size: int = 1000) -> list[dict[str, Any]]:
    """Every history row the server holds for the run at ``entity/project/run_id``."""
    rows: list[dict[str, Any]] = []
    min_step: int | None = 0
    while min_step is not None:
        r = http.get(f"{base_url}/api/v1/runs/{path}/history/scan",
                     params={"min_step": min_step, "page_size": page_size}, timeout=30)
        r.raise_for_status()
        body = r.json()
        rows += body["rows"]
        min_step = body["next_step"]
    return rows


def get_run(base_url: str, path: str) -> dict[str, Any]:
    r = http.get(f"{base_url}/api/v1/runs/{path}", timeout=30)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]
