"""One INFO line per request, with the client's retry id so retries can be traced end to end."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("trackwell.server")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            headers = dict(scope.get("headers") or [])
            retry_id = headers.get(b"x-trackwell-retry-id", b"-").decode("latin-1")
            log.info("%s %s %d %.1fms retry-id=%s", scope["method"], scope["path"], status["code"],
                     (time.perf_counter() - started) * 1000, retry_id)
