"""The credentials file: one API key per server URL, readable by its owner only (0600).

``trackwell login`` writes it, and so does a new server's bootstrap (for the OS user that
started it); the SDK, ``Api`` and ``trackwell sync`` read it when no key is given explicitly or
in ``TRACKWELL_API_KEY``. Kept in the base install: no platformdirs here, the paths are spelled out.

Layout: ``{"version": 1, "hosts": {"http://127.0.0.1:8080": {"api_key": ..., "user": ...,
"entity": ...}}}`` under ``TRACKWELL_CONFIG_DIR`` or the platform's user config dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class Credential:
    api_key: str
    user: str | None = None
    entity: str | None = None  # the runs' default entity for this login (the user's own)


def config_dir() -> Path:
    """``TRACKWELL_CONFIG_DIR``, else the platform's user config dir + ``trackwell``."""
    explicit = os.environ.get("TRACKWELL_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "trackwell"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "trackwell"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "trackwell"


def path() -> Path:
    return config_dir() / FILE_NAME


def host_key(url: str) -> str:
    """``HTTP://LocalHost:8080/`` -> ``http://localhost:8080``: one entry however the URL is spelled
    (default ports made explicit, path dropped)."""
    parts = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    scheme = (parts.scheme or "http").lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _read() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return {k: v for k, v in hosts.items() if isinstance(v, dict)} if isinstance(hosts, dict) else {}


def load(url: str) -> Credential | None:
    """The credential stored for the server at ``url``, if any."""
    entry = _read().get(host_key(url))
    if not entry or not isinstance(entry.get("api_key"), str):
        return None
    return Credential(entry["api_key"], entry.get("user"), entry.get("entity"))


def stored() -> dict[str, Credential]:
    """Every stored credential, by server URL."""
    return {host: Credential(e["api_key"], e.get("user"), e.get("entity"))
            for host, e in _read().items() if isinstance(e.get("api_key"), str)}


def save(url: str, credential: Credential) -> Path:
    """Store ``credential`` for ``url`` (replacing the host's earlier one); returns the file's path."""
    with _locked() as hosts:
        hosts[host_key(url)] = {k: v for k, v in vars(credential).items() if v is not None}
    return path()


def remove(url: str) -> bool:
    """Forget ``url``'s credential; False when there was none."""
    with _locked() as hosts:
        return hosts.pop(host_key(url), None) is not None


@contextlib.contextmanager
def _locked() -> Iterator[dict[str, dict[str, str]]]:
    """Read-modify-write under an exclusive lock (a server's bootstrap and a login may race),
    replaced atomically and created 0600 in a 0700 directory."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_path = directory / (FILE_NAME + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        hosts = _read()
        yield hosts
        body = json.dumps({"version": 1, "hosts": hosts}, indent=2, sort_keys=True)
        import tempfile  # only a write needs it (the SDK reads this file at every init)

        tmp_fd, tmp = tempfile.mkstemp(dir=directory, prefix=".credentials-")  # mkstemp creates 0600
        try:
            with os.fdopen(tmp_fd, "w", encoding="utf-8") as f:
                f.write(body + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    finally:
        os.close(fd)
