"""The transport's retry policy, through the fault-injecting proxy to a real HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fault_proxy import FaultProxy

from trackwell.transport import Client, ServerError, TransportError
from trackwell.transport._client import parse_retry_after


class Echo(BaseHTTPRequestHandler):
    """Counts requests per retry id and answers with the count."""

    protocol_version = "HTTP/1.1"
    hits: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        rid = self.headers.get("X-Trackwell-Retry-Id", "")
        Echo.hits[rid] = Echo.hits.get(rid, 0) + 1
        status = 404 if self.path.startswith("/missing") else 200
        body = json.dumps({"detail": "no such thing"} if status == 404 else {"hits": Echo.hits[rid]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    Echo.hits = {}
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    fp = FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}", match="/", retry_after="0", stall_seconds=1.0)
    yield fp
    fp.close()
    upstream.shutdown()


def client(url: str, attempts: int = 3) -> Client:
    return Client(base_url=url, max_attempts=attempts, initial_wait=0.01, max_wait=0.05, timeout=0.5)


@pytest.mark.parametrize("fault", ["500", "502", "503", "429", "reset", "stall"])
def test_retryable_faults_are_retried_under_one_retry_id(proxy: FaultProxy, fault: str) -> None:
    proxy.queue(fault, fault)
    assert client(proxy.url).get("/thing", msgpack=False) == {"hits": 1}
    ids = {s.retry_id for s in proxy.seen}
    assert len(proxy.seen) == 3 and len(ids) == 1 and None not in ids


def test_attempts_are_bounded_and_the_error_is_clear(proxy: FaultProxy) -> None:
    proxy.queue("503", "503", "503")
    with pytest.raises(ServerError) as info:
        client(proxy.url).get("/thing", msgpack=False)
    assert info.value.status == 503 and len(proxy.seen) == 3

    proxy.queue("reset", "reset", "reset")
    with pytest.raises(TransportError, match="cannot reach the trackwell server"):
        client(proxy.url).get("/thing", msgpack=False)


@pytest.mark.parametrize("fault", ["413", "422"])
def test_client_errors_are_not_retried(proxy: FaultProxy, fault: str) -> None:
    proxy.queue(fault)
    with pytest.raises(ServerError) as info:
        client(proxy.url).get("/thing", msgpack=False)
    assert info.value.status == int(fault) and len(proxy.seen) == 1


def test_404_detail_is_passed_through(proxy: FaultProxy) -> None:
    with pytest.raises(ServerError, match="no such thing"):
        client(proxy.url).get("/missing", msgpack=False)
    assert len(proxy.seen) == 1


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now=1795341600.0) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_retry_after_is_honoured_up_to_the_max_interval(proxy: FaultProxy) -> None:
    proxy.retry_after = "3600"  # a server asking for an hour must not pin the uploader thread
    proxy.queue("429")
    started = time.monotonic()
    assert client(proxy.url).get("/thing", msgpack=False) == {"hits": 1}
    assert time.monotonic() - started < 10 and len(proxy.seen) == 2


def test_one_attempt_when_retry_is_off_with_the_same_clear_error(proxy: FaultProxy) -> None:
    proxy.queue("reset")
    with pytest.raises(TransportError, match="cannot reach the trackwell server"):
        client(proxy.url).request("GET", "/thing", retry=False)
    assert len(proxy.seen) == 1


def test_knobs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKWELL_RETRY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("TRACKWELL_RETRY_MAX_INTERVAL", "9")
    monkeypatch.setenv("TRACKWELL_RETRY_INITIAL_INTERVAL", "0.25")
    monkeypatch.setenv("TRACKWELL_HTTP_TIMEOUT", "2.5")
    c = Client("http://127.0.0.1:1")
    assert (c.max_attempts, c.max_wait, c.initial_wait) == (5, 9.0, 0.25)
    assert c._http.timeout.read == 2.5
    monkeypatch.setenv("TRACKWELL_HTTP_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="TRACKWELL_HTTP_TIMEOUT"):
        Client("http://127.0.0.1:1")
