"""Browser-side attacks, refused before routing (pure ASGI: it runs on every request).

- DNS rebinding: a page on ``evil.example`` whose name resolves to 127.0.0.1 reaches a loopback
  server with ``Host: evil.example``. Names are accepted only if configured (``--public-url``,
  ``--allowed-host``) or ``localhost``; IP literals always (rebinding needs a name).
- Cross-site state changes: a browser sends ``Origin`` with a cross-origin POST; one that is not this
  server's own origin (or a configured CORS origin) is refused.
- "Simple" requests (``text/plain`` bodies, no preflight): a state change that carries no bearer key
  must show it was not made by a form: a JSON or msgpack ``Content-Type``, an ``X-Trackwell-*``
  header or the session's ``X-CSRF-Token`` — none of which a cross-site page can send unpreflighted.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS"})
_NOT_SIMPLE_TYPES = (b"application/json", b"application/msgpack", b"application/x-msgpack")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _host_name(host: str) -> str:
    """``[::1]:8080`` -> ``::1``; ``Example.org:80`` -> ``example.org``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class BrowserGuard:
    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.names = {"localhost", *(_host_name(h) for h in allowed_hosts if h)}
        self.origins = {origin_of(o) for o in allowed_origins if o}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        problem = self._problem(scope, headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, detail = problem
        body = json.dumps({"detail": detail, "error": "refused"}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _problem(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        host = headers.get(b"host", b"").decode("latin-1")
        name = _host_name(host)
        if host and name not in self.names and not _is_ip(name):
            return 400, (f"Host {host[:100]!r} is not a name this server answers to (a DNS-rebinding guard); "
                         "start it with --public-url https://<that name> or --allowed-host <that name>")
        if scope["method"].encode() in SAFE_METHODS:
            return None
        origin = headers.get(b"origin")
        if origin is not None and origin != b"null":
            sent = origin.decode("latin-1").lower()
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if sent != own and sent not in self.origins:
                return 403, (f"cross-origin request from {sent[:100]!r} refused; a page on another origin may "
                             "call this server only if it was started with --cors-origin <that origin>")
        if b"authorization" in headers:
            return None
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype in _NOT_SIMPLE_TYPES or b"x-csrf-token" in headers or any(
                k.startswith(b"x-trackwell-") for k in headers):
            return None
        has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        # 415 for a body of a type a form can send; 403 for a bodiless one (there is no media type to refuse)
        return (415 if has_body else 403), (
            "a state change without an API key needs Content-Type: application/json (or msgpack), an "
            "X-Trackwell-* header or the session's X-CSRF-Token, so that no cross-site form can make it")
