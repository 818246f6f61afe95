"""HTTP client for the trackwell REST API: one retry layer, msgpack for bulk data."""

from __future__ import annotations

import email.utils
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import msgspec
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from trackwell import _credentials
from trackwell._env import env_float
from trackwell.errors import AuthenticationError, CommError, PermissionDenied
from trackwell.schema import Ack, Batch, encode

MSGPACK = "application/msgpack"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class TransportError(CommError):
    """The server could not be reached or kept failing; the data stays in the journal."""


class ServerError(CommError):
    """The server answered with an error status."""

    def __init__(self, status: int, detail: Any, body: Any = None, message: str | None = None) -> None:
        super().__init__(message or f"HTTP {status}: {detail}", status)
        self.status: int = status
        self.detail = detail
        self.body = body if body is not None else {}


class Unauthorized(ServerError, AuthenticationError):
    """HTTP 401: no key, or the server refused it. Never retried: another try would fail the same."""

    @property
    def reason(self) -> str:
        """The server's reason (unknown, revoked, expired key; user deactivated), without the
        server's how-to-fix (this error's message has one naming the server's URL)."""
        return _without_how_to(self.detail)


def _without_how_to(detail: Any) -> str:
    return str(detail).split(": run `trackwell login`", 1)[0]


class Forbidden(ServerError, PermissionDenied):
    """HTTP 403: the key may not do this. Never retried."""


class TooManyRequests(ServerError):
    """HTTP 429: the server is busy, not down. Retried after its Retry-After; the uploader waits
    that long without counting an outage (see sdk/uploader.py)."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked for (None: it did not say)."""
        value = self.body.get("retry_after")  # the header, else the body's own figure
        return None if value is None else parse_retry_after(str(value))


class SequenceGapError(ServerError):
    """The batch started past the server's applied position; resend from ``applied_seq + 1``."""

    @property
    def applied_seq(self) -> int:
        return int(self.body.get("applied_seq", 0))


def _resolve_key(base_url: str, explicit: str | None) -> tuple[str | None, str | None]:
    """The API key and where it came from: ``api_key=``, ``TRACKWELL_API_KEY``, then the
    credentials file's entry for ``base_url`` (``trackwell login``, or a new server's bootstrap)."""
    env = os.environ.get("TRACKWELL_API_KEY")
    if explicit:
        # Settings resolve the env var into api_key before it reaches us: name the real source
        return explicit, "TRACKWELL_API_KEY" if explicit == env else "api_key="
    if env:
        return env, "TRACKWELL_API_KEY"
    stored = _credentials.load(base_url)
    if stored is not None:
        return stored.api_key, f"the credentials file {_credentials.path()}"
    return None, None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, ServerError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, (httpx.TransportError, OSError))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retry_after(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, TooManyRequests):
        delay = exc.retry_after
        return 1.0 if delay is None else delay
    return 0.0


class Client:
    """A thin layer over httpx: base URL, auth, retries, msgpack/JSON bodies, clear errors.

    Unset knobs come from ``TRACKWELL_RETRY_MAX_ATTEMPTS`` (3), ``TRACKWELL_RETRY_MAX_INTERVAL``
    (300 s), ``TRACKWELL_RETRY_INITIAL_INTERVAL`` (1 s) and ``TRACKWELL_HTTP_TIMEOUT`` (30 s).
    The key: ``api_key``, else ``TRACKWELL_API_KEY``, else the credentials file's entry for
    ``base_url``. A 401 raises ``trackwell.errors.AuthenticationError``, a 403
    ``trackwell.errors.PermissionDenied`` (both ``ServerError`` too), neither retried.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        max_wait: float | None = None,
        initial_wait: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get("TRACKWELL_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        headers = {"User-Agent": "trackwell-python"}
        self._key, self.key_source = _resolve_key(self.base_url, api_key)
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        timeout = timeout or env_float("TRACKWELL_HTTP_TIMEOUT", 30.0)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)
        self.max_attempts = max_attempts or int(env_float("TRACKWELL_RETRY_MAX_ATTEMPTS", 3))
        self.max_wait = max_wait or env_float("TRACKWELL_RETRY_MAX_INTERVAL", 300.0)
        self.initial_wait = initial_wait or env_float("TRACKWELL_RETRY_INITIAL_INTERVAL", 1.0)

    @property
    def api_key(self) -> str | None:
        """The key this client sends (None: none found); ``key_source`` says where it came from."""
        return self._key

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None,
                content: bytes | Callable[[], Iterator[bytes]] | None = None,
                content_type: str | None = None, params: dict[str, Any] | None = None,
                msgpack: bool = False, retry: bool = True) -> Any:
        """Send one logical request (retried as one, under one retry id) and decode the answer.
        ``content`` may be a function giving the body's chunks: each attempt streams it anew."""
        headers = {"X-Trackwell-Retry-Id": uuid.uuid4().hex}
        if content_type:
            headers["Content-Type"] = content_type
        if msgpack:
            headers["Accept"] = MSGPACK
        if json is not None:
            content, headers["Content-Type"] = msgspec.json.encode(json), "application/json"

        def once() -> Any:
            body = content() if callable(content) else content
            response = self._http.request(method, path, content=body, params=params, headers=headers)
            return self._decode(response)

        backoff = wait_exponential(multiplier=self.initial_wait, max=self.max_wait) + wait_random(0, self.initial_wait)

        def wait(state: RetryCallState) -> float:
            # Retry-After is honoured up to the max interval: a longer sleep here would pin the
            # caller (the uploader thread) where only its own backoff should decide.
            return min(max(_retry_after(state), backoff(state)), self.max_wait)

        try:
            if not retry:
                return once()
            for attempt in Retrying(stop=stop_after_attempt(self.max_attempts), wait=wait,
                                    retry=retry_if_exception(_retryable), reraise=True):
                with attempt:
                    return once()
        except (httpx.TransportError, OSError) as exc:
            raise TransportError(f"cannot reach the trackwell server at {self.base_url} "
                                 f"({type(exc).__name__}: {exc}); is `trackwell server` running?") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """A streamed response (a context manager; not retried): for downloads."""
        return self._http.stream(method, path, params=params)

    def raise_for(self, response: httpx.Response) -> None:
        """Raise the error an answer of 400 or more stands for (as ``request`` would)."""
        self._decode(response)

    def _decode(self, response: httpx.Response) -> Any:
        ctype = response.headers.get("content-type", "")
        if ctype.startswith(MSGPACK):
            body: Any = msgspec.msgpack.decode(response.content)
        elif ctype.startswith("application/json") and response.content:
            body = msgspec.json.decode(response.content)
        else:
            body = response.text
        if response.status_code >= 400:
            detail = body.get("detail", body) if isinstance(body, dict) else body
            retry_after = response.headers.get("retry-after")
            extra = dict(body) if isinstance(body, dict) else {}
            if retry_after is not None:
                extra["retry_after"] = retry_after
            if response.status_code == 409 and extra.get("error") == "sequence_gap":
                raise SequenceGapError(response.status_code, detail, extra)
            if response.status_code == 429:
                raise TooManyRequests(429, detail, extra)
            if response.status_code == 401:
                raise Unauthorized(401, detail, extra, self._unauthorized_message(_without_how_to(detail)))
            if response.status_code == 403:
                raise Forbidden(403, detail, extra, f"the trackwell server at {self.base_url} refused: "
                                f"{self._redact(detail)} (HTTP 403)")
            raise ServerError(response.status_code, detail, extra)
        return body

    def _redact(self, detail: Any) -> str:
        """The server's words, without the key should a proxy or server ever echo it back."""
        text = str(detail)
        return text.replace(self._key, "<api key>") if self._key else text

    def _unauthorized_message(self, reason: str) -> str:
        login = f"`trackwell login --host {self.base_url}`"
        if self.key_source is None:
            return (f"no API key for the trackwell server at {self.base_url}: run {login} or set "
                    "TRACKWELL_API_KEY (with a key from `trackwell keys create`)")
        return (f"the trackwell server at {self.base_url} refused the API key from {self.key_source}: "
                f"{self._redact(reason)}; run {login} with a current key or set TRACKWELL_API_KEY")

    # -- endpoints ------------------------------------------------------------------------

    @staticmethod
    def run_path(entity: str, project: str, run_id: str) -> str:
        return f"/api/v1/runs/{entity}/{project}/{run_id}"

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/api/v1/health", retry=False)  # type: ignore[no-any-return]

    def upsert_run(self, entity: str, project: str, run_id: str, **fields: Any) -> dict[str, Any]:
        return self.request("PUT", self.run_path(entity, project, run_id), json=fields)  # type: ignore[no-any-return]

    def send_batch(self, entity: str, project: str, run_id: str, batch: Batch, retry: bool = True) -> Ack:
        """POST a batch; ``retry=False`` makes one attempt (the uploader's breaker probes)."""
        body = self.request("POST", self.run_path(entity, project, run_id) + "/records",
                            content=encode(batch), content_type=MSGPACK, msgpack=True, retry=retry)
        return msgspec.convert(body, Ack)

    def get(self, path: str, params: dict[str, Any] | None = None, msgpack: bool = True) -> Any:
        return self.request("GET", path, params=params, msgpack=msgpack)
