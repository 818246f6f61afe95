"""Helpers for the lifecycle tests: child processes against a real server, reading runs back."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import servers

CRASH_TIMEOUT = 1.5  # seconds: the servers of these tests notice a silent run quickly
CHILD = Path(__file__).with_name("child.py")
FAST = {"TRACKWELL_HEARTBEAT_INTERVAL": "0.2", "TRACKWELL_FLUSH_INTERVAL": "0.1", "TRACKWELL_QUIET": "1"}


class Child:
    """A child training process: ``start`` it, read its JSON lines, signal it, wait for it."""

    def __init__(self, workdir: Path, url: str, spec: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.progress = None
        if spec.get("then") == "loop":
            self.progress = workdir / f"progress-{time.monotonic_ns()}"
            self.progress.write_bytes(struct.pack("qq", -1, -1))
            spec = {**spec, "progress": str(self.progress)}
        full_env = {**os.environ, **FAST, "TRACKWELL_BASE_URL": url, "TRACKWELL_PROJECT": "life",
                    **(env or {})}
        self.proc = subprocess.Popen([sys.executable, str(CHILD), json.dumps(spec)], cwd=workdir, env=full_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def line(self, timeout: float = 30) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.proc.stdout.readline()
            if not text:
                raise AssertionError(f"child ended ({self.proc.wait()}) before printing:\n{self.stderr()}")
            if text.startswith("{"):
                return json.loads(text)  # type: ignore[no-any-return]
        raise AssertionError("child printed nothing in time")

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read() if self.proc.poll() is not None else ""

    def logged(self) -> tuple[int, int]:
        """(last step about to be logged, last step logged) when the child stopped."""
        assert self.progress is not None
        about, done = struct.unpack("qq", self.progress.read_bytes()[:16])
        return about, done


def run_child(workdir: Path, url: str, spec: dict[str, Any], env: dict[str, str] | None = None,
              timeout: float = 60) -> tuple[int, dict[str, Any] | None, str]:
    """Run a child to its end: (exit status, its "ready" line or None, stderr)."""
    child = Child(workdir, url, spec, env)
    out, err = child.proc.communicate(timeout=timeout)
    ready = next((json.loads(t) for t in out.splitlines() if t.startswith('{"ready"')), None)
    return child.proc.returncode, ready, err


def run_path(url: str, run_id: str, project: str = "life") -> str:
    """``entity/project/run_id`` of a child's run: the SDK's default entity is the login's."""
    return f"{servers.login_entity(url)}/{project}/{run_id}"


def get_run(url: str, run_id: str, project: str = "life") -> dict[str, Any]:
    return servers.get_run(url, run_path(url, run_id, project))


def rows(url: str, run_id: str, project: str = "life") -> list[dict[str, Any]]:
    return servers.scan_rows(url, run_path(url, run_id, project), page_size=5000)


def wait_until(condition: Callable[[], Any], timeout: float = 20, what: str = "the condition") -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.02)


def wait_for_state(url: str, run_id: str, state: str, timeout: float = 20) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def reached() -> bool:
        seen.append(get_run(url, run_id))
        return bool(seen[-1]["state"] == state)

    try:
        wait_until(reached, timeout, f"state {state!r}")
    except AssertionError:
        raise AssertionError(f"run {run_id} never reached state {state!r}: {seen[-1]}") from None
    return seen[-1]


def wait_for_rows(url: str, run_id: str, count: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
    """The run's history once the server holds at least ``count`` rows (the run may not exist yet)."""
    def enough() -> list[dict[str, Any]] | None:
        try:
            found = rows(url, run_id)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                return None
            raise
        return found if len(found) >= count else None

    return wait_until(enough, timeout, f"{count} rows of run {run_id} on the server")  # type: ignore[no-any-return]


def sync(*paths: str | Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackwell", "sync", *map(str, paths), "--base-url", url],
                          capture_output=True, text=True, timeout=120)
