"""Limits on what a client can hold: request bodies, and connections.

``BodyLimit``: a body over ``max_bytes`` is answered 413 with the limit in the body, so a client
can size its batches below it (the SDK halves a refused batch and learns the limit). Pure ASGI so
it runs before any body is buffered: a declared Content-Length over the limit is refused without
reading, and a chunked body is counted as it arrives.

``guarded_h11``: uvicorn's HTTP/1.1 protocol with the timeouts it lacks (its keep-alive timeout
only runs between requests, so a client that sends half a request line holds its connection and
file descriptor forever: slowloris). A request's head must arrive within ``header_timeout`` of the
connection opening (or of the previous response); while a body arrives, ``body_timeout`` may
pass without a byte. And at most ``max_connections`` are open: one more is answered 503 and
closed at once, so a flood never exhausts the file descriptors that ``/health``, the databases
and the accept loop need.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0
_FDS_KEPT = 64  # file descriptors left for the databases, logs and the listening socket

log = logging.getLogger("trackwell.server")


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:  # the app answered before reading it all; nothing sensible left to say
                raise
            await self._refuse(send, seen, at_least=True)

    async def _refuse(self, send: Send, size: int, at_least: bool = False) -> None:
        size_text = f"{'more than ' if at_least else ''}{size} bytes"
        body = msgspec.json.encode({
            "detail": f"request body of {size_text} is over this server's limit of {self.max_bytes} "
                      "bytes; send smaller batches, or raise `trackwell server --max-request-bytes`",
            "error": "payload_too_large",
            "max_request_bytes": self.max_bytes,
        })
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def default_max_connections() -> int:
    """1,000, or fewer when the process may open fewer files."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to read
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(8, min(1000, soft - _FDS_KEPT))


_BUSY = msgspec.json.encode({"detail": "the server has too many open connections; retry shortly",
                             "error": "too_many_connections"})
_BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
                  b"retry-after: 1\r\ncontent-length: " + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY)


class _GuardedH11(H11Protocol):
    header_timeout = DEFAULT_HEADER_TIMEOUT
    body_timeout = DEFAULT_BODY_TIMEOUT
    max_connections = 1000
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("refused a connection from %s: %d connections are open, the limit (--max-connections)",
                        self._peer(), len(self.connections) - 1)
            transport.write(_BUSY_RESPONSE)
            transport.close()
            return
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.SEND_BODY:  # a byte of body: the idle clock restarts
            self._arm(self.body_timeout)

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._timer is None:
            self._arm(self.body_timeout)
        elif state is not h11.IDLE and state is not h11.SEND_BODY:  # the whole request is in
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm(self.header_timeout)  # before super(): a pipelined request disarms it again
        super().on_response_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self.flow.read_paused:  # we stopped reading, not the client
            self._arm(self.body_timeout)
            return
        if state is h11.IDLE:
            log.warning("closed a connection from %s: no complete request head within %g s (--header-timeout)",
                        self._peer(), self.header_timeout)
        elif state is h11.SEND_BODY:
            log.warning("closed a connection from %s: no byte of the request body for %g s (--body-timeout)",
                        self._peer(), self.body_timeout)
        else:
            return
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "?"


def guarded_h11(header_timeout: float = DEFAULT_HEADER_TIMEOUT, body_timeout: float = DEFAULT_BODY_TIMEOUT,
                max_connections: int | None = None) -> type[Any]:
    """The protocol class for ``uvicorn.run(http=...)``."""
    return type("GuardedH11Protocol", (_GuardedH11,), {
        "header_timeout": header_timeout, "body_timeout": body_timeout,
        "max_connections": max_connections or default_max_connections()})
