"""One INFO line per request, with the client's retry id so retries can be traced end to end;
and a filter that keeps a storm of one warning from flooding the log.

The request line logs the path as the client sent it (``raw_path``, still percent-encoded) with
every control or non-ASCII character escaped, so no request can forge a log line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("trackwell.server")

_MAX_LOGGED_CHARS = 2000


def escaped(raw: bytes | str, limit: int = _MAX_LOGGED_CHARS) -> str:
    """Printable ASCII as is; everything else as ``\\xNN``/``\\uNNNN``; cut to ``limit``."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    cut = len(text) > limit
    text = text[:limit]
    if not (text.isascii() and text.isprintable()):
        text = "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") for c in text)
    return text + (f"...({len(raw)} chars)" if cut else "")


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
            retry_id = headers.get(b"x-trackwell-retry-id", b"-")
            path = scope.get("raw_path") or scope["path"]
            log.info("%s %s %d %.1fms retry-id=%s", escaped(scope["method"], 20), escaped(path), status["code"],
                     (time.perf_counter() - started) * 1000, escaped(retry_id, 100))


class RepeatFilter(logging.Filter):
    """Lets ``burst`` records of one kind (logger, level, message template) through per
    ``window`` seconds; the first one let through after a quiet spell says how many were
    suppressed. Only warnings and above: request lines all share one template."""

    def __init__(self, burst: int = 5, window: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._seen: dict[tuple[str, int, str], list[float | int]] = {}  # key -> [window start, passed, suppressed]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.window:
            suppressed = int(state[2]) if state is not None else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 1000:  # forget old kinds: bounded memory
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
            if suppressed:
                record.msg = f"{record.msg} [{suppressed} similar messages suppressed]"
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False
