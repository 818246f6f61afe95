"""Sending deliveries: one HTTP POST per attempt, signed per Standard Webhooks, to an address
checked against private ranges (SSRF) and pinned for the request (no DNS rebinding between the
check and the connection), no redirects followed, a timeout and a cap on the answer read.

Retry policy (``RetryPolicy``): 2xx is delivered; 408, 429, 5xx, timeouts and connection errors
are retried on the schedule (``Retry-After`` honoured, up to a day), with jitter; anything else
(3xx, other 4xx, a refused address) fails the delivery at once. Either way the delivery can be
sent again by hand (``redeliver``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import smtplib
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from trackwell import __version__
from trackwell._env import env_float
from trackwell.automations import _signing
from trackwell.automations._semantics import render

# Svix's schedule after the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: ~28 h.
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
RESPONSE_CAP = 64 * 1024  # bytes of an answer read at most
RESPONSE_KEPT = 1024  # bytes of it kept in the delivery log
MAX_RETRY_AFTER = 86_400.0


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    timeout: float = 15.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """``TRACKWELL_WEBHOOK_RETRY_SCHEDULE`` (comma-separated seconds) and ``TRACKWELL_WEBHOOK_TIMEOUT``."""
        import os

        raw = os.environ.get("TRACKWELL_WEBHOOK_RETRY_SCHEDULE")
        schedule = tuple(float(x) for x in raw.split(",") if x.strip()) if raw else DEFAULT_SCHEDULE
        return cls(schedule=schedule, timeout=env_float("TRACKWELL_WEBHOOK_TIMEOUT", 15.0))

    def next_delay(self, attempts_made: int, retry_after: float | None = None) -> float | None:
        """Seconds until the next attempt after ``attempts_made`` failed ones; None: give up."""
        if attempts_made > len(self.schedule):
            return None
        delay = self.schedule[attempts_made - 1] * random.uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay

    @property
    def lease(self) -> float:
        """How long a claimed delivery is left to its sender before another may take it."""
        return self.timeout * 2 + 5


@dataclass
class Outcome:
    status_code: int | None = None
    error: str | None = None
    response: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Refused(Exception):
    """The target may not be sent to (a private address, a bad URL): retrying will not help."""


def blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, allow_private: bool) -> None:
    """At creation: an http(s) URL, and no literal private address unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url!r} is not an http(s) URL")
    if allow_private:
        return
    host = parts.hostname
    try:
        if blocked(host):
            raise Refused(_private(host))
    except ValueError:  # a name: checked when sending, on the addresses it resolves to
        if host == "localhost" or host.endswith(".localhost"):
            raise Refused(_private(host)) from None


def _private(host: str) -> str:
    return (f"{host} is a loopback, private or reserved address; webhooks may only reach public addresses "
            "unless the server runs with --allow-private-webhooks")


async def _pinned(url: str, allow_private: bool) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by a checked address, the Host header and the TLS name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private and any(blocked(a) for a in addresses):
        raise Refused(_private(f"{host} ({', '.join(sorted(set(addresses)))})"))
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc.rpartition("@")[2]}, extensions


class Sender:
    def __init__(self, policy: RetryPolicy, allow_private: bool) -> None:
        self.policy, self.allow_private = policy, allow_private
        self._client = httpx.AsyncClient(follow_redirects=False, timeout=policy.timeout, trust_env=False)

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, msg_id: str, integration: dict[str, Any], payload: Any, secret: str | None,
                   token: str | None) -> Outcome:
        started = time.perf_counter()
        outcome = await self._send(msg_id, integration["url"], payload, secret, token)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    async def _send(self, msg_id: str, url: str, payload: Any, secret: str | None, token: str | None) -> Outcome:
        if token is not None:
            payload = render(payload, {"ACCESS_TOKEN": token})
        body = json.dumps(payload, separators=(",", ":"), allow_nan=False, default=str).encode()
        headers = {"Content-Type": "application/json", "User-Agent": f"trackwell-webhooks/{__version__}",
                   **_signing.headers(secret, msg_id, body)}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            target, host, extensions = await _pinned(url, self.allow_private)
            async with self._client.stream("POST", target, content=body, headers={**headers, **host},
                                           extensions=extensions) as response:
                kept = await _read_capped(response)
                return Outcome(response.status_code, None if response.is_success else f"HTTP {response.status_code}",
                               kept, _retryable(response.status_code), _retry_after(response.headers))
        except Refused as exc:
            return Outcome(error=f"refused: {exc}")
        except httpx.TimeoutException:
            return Outcome(error=f"timed out after {self.policy.timeout:g} s", retryable=True)
        except (httpx.HTTPError, ConnectionError, OSError) as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}"[:500], retryable=True)


    async def send_email(self, msg_id: str, integration: dict[str, Any], payload: Any, password: str | None,
                         _token: str | None) -> Outcome:
        """A notification as a plain-text email, its ``Message-ID`` the delivery's id (stable
        across attempts, as ``webhook-id``). SMTP 4xx and connection errors are retried; 5xx fail."""
        started = time.perf_counter()
        parts = urlsplit(integration["url"])
        host, port = parts.hostname or "", parts.port or 25
        try:
            await _pinned(f"http://{host}:{port}/", self.allow_private)  # the SSRF check on every address
            await asyncio.to_thread(_smtp_send, host, port, integration.get("config") or {}, password, msg_id,
                                    payload, self.policy.timeout)
            outcome = Outcome(250, None, "accepted")
        except Refused as exc:
            outcome = Outcome(error=f"refused: {exc}")
        except smtplib.SMTPResponseException as exc:
            outcome = Outcome(exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:500],
                              retryable=400 <= exc.smtp_code < 500)
        except smtplib.SMTPRecipientsRefused as exc:
            outcome = Outcome(error=f"recipients refused: {exc.recipients}"[:500])
        except (smtplib.SMTPException, OSError) as exc:
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}"[:500], retryable=True)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome


def _smtp_send(host: str, port: int, config: dict[str, Any], password: str | None, msg_id: str, payload: Any,
               timeout: float) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    title = (payload.get("attachments") or [{}])[0].get("title") or "trackwell automation"
    message["Subject"] = f"[{payload.get('severity', 'INFO')}] {title}"
    message["From"] = config["from_address"]
    message["To"] = ", ".join(config["to"])
    message["Message-ID"] = f"<{msg_id}@trackwell>"
    message.set_content(payload.get("text") or title)
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        if config.get("starttls"):
            import ssl

            smtp.starttls(context=ssl.create_default_context())
        if config.get("username") and password:
            smtp.login(config["username"], password)
        smtp.send_message(message)


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def _read_capped(response: httpx.Response) -> str:
    got = bytearray()
    async for chunk in response.aiter_raw():
        got += chunk
        if len(got) >= RESPONSE_CAP:
            break
    return bytes(got[:RESPONSE_KEPT]).decode(errors="replace")
