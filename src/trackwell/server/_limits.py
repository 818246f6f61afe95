"""The request body limit: a body over ``max_bytes`` is answered 413 with the limit in the body,
so a client can size its batches below it (the SDK halves a refused batch and learns the limit).

Pure ASGI so it runs before any body is buffered: a declared Content-Length over the limit is
refused without reading, and a chunked body is counted as it arrives.
"""

from __future__ import annotations

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024


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
