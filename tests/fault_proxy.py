"""A real loopback HTTP proxy that injects faults between a client and a trackwell server.

Faults, by name:
  ok              forward as is
  500 502 503     answer that status without forwarding
  429             answer 429 with ``Retry-After: <retry_after>`` without forwarding
  413 422         answer that status without forwarding (with a JSON detail)
  reset           close the connection with a TCP RST before answering
  stall           hold the request ``stall_seconds`` (past the client's timeout), then close
  drop_response   forward (the server applies it), then close without answering

Faults apply to requests whose path contains ``match``; others pass through. Give a fixed
sequence with ``queue(...)`` or a seeded random mix with ``mix={fault: weight}``.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

FAULTS = ("ok", "500", "502", "503", "429", "413", "422", "reset", "stall", "drop_response")


@dataclass
class Seen:
    method: str
    path: str
    retry_id: str | None
    fault: str


@dataclass
class FaultProxy:
    upstream: str
    match: str = "/records"
    mix: dict[str, float] | None = None
    seed: int = 0
    retry_after: str = "1"
    stall_seconds: float = 3.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[str] = deque()
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.upstream, timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *faults: str) -> None:
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._queue.extend(faults)

    def _next_fault(self, path: str) -> str:
        if self.match not in path:
            return "ok"
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.mix:
                names = list(self.mix)
                return self._rng.choices(names, weights=[self.mix[n] for n in names])[0]
        return "ok"

    def faults_seen(self, fault: str) -> list[Seen]:
        return [s for s in self.seen if s.fault == fault]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        fault = self._next_fault(h.path)
        with self._lock:
            self.seen.append(Seen(h.command, h.path, h.headers.get("X-Trackwell-Retry-Id"), fault))
        if fault in ("500", "502", "503", "413", "422", "429"):
            payload = b'{"detail": "injected fault %s"}' % fault.encode()
            h.send_response(int(fault))
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            if fault == "429":
                h.send_header("Retry-After", self.retry_after)
            h.end_headers()
            h.wfile.write(payload)
            return
        if fault == "reset":
            self._reset(h)
            return
        if fault == "stall":
            time.sleep(self.stall_seconds)
            self._reset(h)
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        response = self._http.request(h.command, h.path, content=body, headers=headers)
        if fault == "drop_response":
            self._reset(h)
            return
        h.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                h.send_header(key, value)
        h.send_header("Content-Length", str(len(response.content)))
        h.end_headers()
        h.wfile.write(response.content)

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        h.connection.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()
