"""A real S3-compatible HTTP server for tests: moto's standalone server (``moto_server``) as a
subprocess on a free loopback port, and the environment boto3 needs to reach it.

A plain module (like servers.py) so every test directory can import it; the session fixture
``s3_endpoint`` in conftest.py starts one per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from servers import free_port

# moto accepts any credentials; these only have to be present (boto3 refuses to sign without).
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        """What a `trackwell server --blob-store s3://...` subprocess needs to reach this server."""
        return {**S3_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"tw-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_s3_server(log_dir: Path, timeout: float = 30) -> S3Server:
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"moto-{port}.log", "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **S3_ENV})
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}: "
                               f"{(log_dir / f'moto-{port}.log').read_text()}")
        try:
            httpx.get(endpoint, timeout=1)
            return S3Server(endpoint, process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto_server did not answer on {endpoint} in {timeout}s")
