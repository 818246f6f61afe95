"""A real loopback HTTP proxy that injects faults between a client and a trackwell server.

Faults, by name:
  ok                  forward as is
  500 502 503         answer that status without forwarding
  429                 answer 429 with ``Retry-After: <retry_after>`` without forwarding
  413 422             answer that status without forwarding (with a JSON detail)
  reset               close the connection with a TCP RST before answering
  stall               hold the request ``stall_seconds`` (past the client's timeout), then close
  drop_response       forward (the server applies it), then close without answering
  drop_response_late  the client times out while the server is still applying the request:
                      forward all of it but its last byte, hold that until the client's retry
                      (same retry id) arrives or ``drop_delay`` seconds passed, then send it and
                      forward the retry right behind it; the first answer never reaches the
                      client (its connection is cut). The server applies the original while the
                      retry arrives, and must answer the retry from its applied-seq mark.

Faults apply to requests whose path contains ``match``; others pass through. Give a fixed
sequence with ``queue(...)`` or a seeded random mix with ``mix={fault: weight}``. When the server
cannot be reached (stopped or killed), forwarded requests are answered 502 like a real proxy.

Clients call the proxy's URL, so the upstream server's key is stored for it too (what
`trackwell login --host PROXY_URL KEY` does); the proxy forwards the Authorization header as is.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from servers import login

FAULTS = ("ok", "500", "502", "503", "429", "413", "422", "reset", "stall", "drop_response",
          "drop_response_late")
_HOP_BY_HOP = ("content-length", "transfer-encoding", "connection", "content-encoding")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up: that is the game here
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class Seen:
    method: str
    path: str
    retry_id: str | None
    fault: str
    upstream_status: int | None = None  # what the server answered (None: not forwarded, or unreachable)
    upstream_done: threading.Event = field(default_factory=threading.Event, repr=False)
    body_sent: threading.Event = field(default_factory=threading.Event, repr=False)
    handled: threading.Event = field(default_factory=threading.Event, repr=False)  # the proxy is done with it
    sent_at: float | None = None  # monotonic: the whole request was with the server
    answered_at: float | None = None  # monotonic: the server's answer came back


@dataclass
class FaultProxy:
    upstream: str
    match: str = "/records"
    mix: dict[str, float] | None = None
    seed: int = 0
    retry_after: str = "1"
    stall_seconds: float = 3.0
    drop_delay: float = 3.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[str] = deque()
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._paused = False
        self._held: dict[str, tuple[threading.Event, Seen]] = {}  # retry id -> (release, the held request)
        self._http = httpx.Client(base_url=self.upstream, timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        with contextlib.suppress(LookupError):  # an upstream that is not a trackwell server has no login
            login(self.url, like=self.upstream)

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

    def pause(self) -> list[str]:
        """Forward everything as is until ``resume()``; returns (and drops) the queued faults."""
        with self._lock:
            self._paused = True
            dropped = list(self._queue)
            self._queue.clear()
        return dropped

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    def _next_fault(self, path: str) -> str:
        if self.match not in path:
            return "ok"
        with self._lock:
            if self._paused:
                return "ok"
            if self._queue:
                return self._queue.popleft()
            if self.mix:
                names = list(self.mix)
                return self._rng.choices(names, weights=[self.mix[n] for n in names])[0]
        return "ok"

    def release_held(self) -> None:
        """Let every request held by ``drop_response_late`` reach the server now (e.g. its
        client was killed and will never retry)."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for release, _ in held:
            release.set()

    def faults_seen(self, fault: str) -> list[Seen]:
        return [s for s in self.seen if s.fault == fault]

    def wait_forwarded(self, timeout: float = 60) -> None:
        """Wait until every request forwarded so far has its server answer (or failed)."""
        with self._lock:
            pending = [s for s in self.seen if not s.upstream_done.is_set()]
        for s in pending:
            if not s.upstream_done.wait(timeout):
                raise TimeoutError(f"the server did not answer {s.method} {s.path} in {timeout}s")

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        fault = self._next_fault(h.path)
        seen = Seen(h.command, h.path, h.headers.get("X-Trackwell-Retry-Id"), fault)
        with self._lock:
            self.seen.append(seen)
        try:
            self._inject(h, seen, body)
        finally:
            seen.handled.set()

    def _inject(self, h: BaseHTTPRequestHandler, seen: Seen, body: bytes) -> None:
        fault = seen.fault
        with self._lock:
            held = self._held.pop(seen.retry_id, None) if seen.retry_id else None
        if held is not None:  # the retry of a request held back: the original completes first
            release, original = held
            release.set()
            original.body_sent.wait(self.drop_delay)
        if fault in ("500", "502", "503", "413", "422", "429"):
            seen.upstream_done.set()
            self._answer(h, int(fault), b'{"detail": "injected fault %s"}' % fault.encode(),
                         {"Content-Type": "application/json",
                          **({"Retry-After": self.retry_after} if fault == "429" else {})})
            return
        if fault in ("reset", "stall"):
            seen.upstream_done.set()
            if fault == "stall":
                time.sleep(self.stall_seconds)
            self._reset(h)
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        headers["Content-Length"] = str(len(body))  # streamed below, still not chunked
        if fault == "drop_response_late":
            retried = threading.Event()
            if seen.retry_id:
                with self._lock:
                    self._held[seen.retry_id] = (retried, seen)
            threading.Thread(target=self._forward, daemon=True,
                             args=(seen, h.command, h.path, self._last_byte_held(body, retried), headers)).start()
            retried.wait(self.drop_delay)
            with self._lock:
                self._held.pop(seen.retry_id or "", None)
            self._reset(h)  # the client (gone already, or about to be) never gets the answer
            return
        response = self._forward(seen, h.command, h.path, body, headers)
        if fault == "drop_response":
            self._reset(h)
        elif response is None:
            self._answer(h, 502, b'{"detail": "injected proxy: the server cannot be reached"}',
                         {"Content-Type": "application/json"})
        else:
            self._answer(h, response.status_code, response.content,
                         {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP})

    def _last_byte_held(self, body: bytes, release: threading.Event) -> Iterator[bytes]:
        yield body[:-1]
        release.wait(self.drop_delay)
        yield body[-1:]

    def _forward(self, seen: Seen, method: str, path: str, body: bytes | Iterator[bytes],
                 headers: dict[str, str]) -> httpx.Response | None:
        def sent() -> Iterator[bytes]:
            yield from [body] if isinstance(body, bytes) else body
            seen.sent_at = time.monotonic()
            seen.body_sent.set()

        try:
            response = self._http.request(method, path, content=sent(), headers=headers)
        except httpx.HTTPError:
            return None
        else:
            seen.upstream_status = response.status_code
            seen.answered_at = time.monotonic()
            return response
        finally:
            seen.body_sent.set()
            seen.upstream_done.set()

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            h.send_response(status)
            for key, value in headers.items():
                h.send_header(key, value)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except OSError:  # the client gave up waiting: nothing to answer
            h.close_connection = True

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        try:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:  # the client already hung up (it timed out first)
            pass
        h.close_connection = True
        h.connection.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()
