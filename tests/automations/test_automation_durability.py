"""Deliveries survive the server: killed mid-delivery, a restarted server sends the delivery
again with the same ``webhook-id``; a delivered one is never sent again; redelivery by hand; SSRF
targets refused; a receiver's 4xx fails the delivery at once, its 5xx is retried."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from conftest import FAST_RETRIES, Writer
from receiver import Receiver
from servers import LiveServer, http, start_server

from trackwell import Api
from trackwell.automations import OnRunState, RunEvent, SendWebhook, WebhookIntegration


def _finished_hook(api: Api, server: LiveServer, url: str, project: str = "p") -> None:
    hook = api.create_integration(WebhookIntegration(name="hook", url=url))
    api.create_automation(OnRunState(scope=f"{server.entity}/{project}", filter=RunEvent.state == "finished")
                          >> SendWebhook.from_integration(hook), name="on-finish")


def _log(api: Api) -> list[dict]:
    return api.automation_deliveries(api.automation("on-finish"))


def test_killed_mid_delivery_resends_same_id_and_never_a_delivered_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    monkeypatch.setenv("TRACKWELL_WEBHOOK_RETRY_SCHEDULE", FAST_RETRIES)
    monkeypatch.setenv("TRACKWELL_WEBHOOK_TIMEOUT", "30")  # the held request is in flight, not timed out
    server = start_server(tmp_path / "s", "--allow-private-webhooks")
    try:
        api = Api(base_url=server.url)
        _finished_hook(api, server, receiver.url)
        receiver.hold_first = 20.0
        Writer(server, "p").exit(0)
        first = receiver.wait_for(1)[0]
        server.process.kill()  # SIGKILL while the receiver holds the request
        server.process.wait()
        server = start_server(tmp_path / "s", "--allow-private-webhooks")
        api = Api(base_url=server.url)
        again = receiver.wait_for(2, timeout=20)[1]
        assert again.headers["webhook-id"] == first.headers["webhook-id"]
        assert again.body == first.body
        deadline = time.monotonic() + 10
        while _log(api)[0]["status"] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _log(api)[0]["status"] == "delivered"
        server.stop()  # a clean restart: nothing is sent again
        server = start_server(tmp_path / "s", "--allow-private-webhooks")
        time.sleep(2.0)
        assert len(receiver.received) == 2
    finally:
        server.stop()


def test_redeliver_resends_with_the_same_id(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    _finished_hook(api, hook_server, receiver.url)
    Writer(hook_server, "p").exit(0)
    first = receiver.wait_for(1)[0]
    automation = api.automation("on-finish")
    deadline = time.monotonic() + 10
    while _log(api)[0]["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.1)
    api.redeliver(automation, _log(api)[0]["id"])
    again = receiver.wait_for(2)[1]
    assert again.headers["webhook-id"] == first.headers["webhook-id"] and again.body == first.body
    with pytest.raises(Exception, match="no delivery"):
        api.redeliver(automation, "msg_nope")


def test_client_errors_fail_at_once_server_errors_are_retried(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    _finished_hook(api, hook_server, receiver.url)
    receiver.status = 410
    Writer(hook_server, "p").exit(0)
    receiver.wait_for(1)
    time.sleep(1.5)
    assert len(receiver.received) == 1
    (gone,) = _log(api)
    assert gone["status"] == "failed" and gone["last_status_code"] == 410
    receiver.status = 503
    Writer(hook_server, "p").exit(0)
    receiver.wait_for(3, timeout=10)  # retried on the (test's short) schedule
    receiver.status = 200
    receiver.wait_for(4, timeout=15)
    retried = _log(api)[0]
    deadline = time.monotonic() + 10
    while retried["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.1)
        retried = _log(api)[0]
    codes = [a["status_code"] for a in retried["attempt_log"]]
    assert retried["status"] == "delivered" and codes[-1] == 200 and set(codes[:-1]) == {503}


def test_ssrf_targets_refused(tmp_path: Path, receiver: Receiver) -> None:
    server = start_server(tmp_path / "s")  # private addresses not allowed
    try:
        base = f"{server.url}/api/v1/integrations/{server.entity}"
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.8/x", "http://[::1]/x",
                    "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"):
            r = http.post(base, json={"kind": "webhook", "url": url})
            assert r.status_code == 422, (url, r.text)
            assert "allow-private-webhooks" in r.text or "http" in r.text
        r = http.delete(f"{base}/{2**63 - 2}")  # past the INTEGER column (PostgreSQL: 32 bits): 422, not a 500
        assert r.status_code == 422 and "integration_id" in r.text, r.text
        # a name that resolves to a private address is refused when sending
        host = socket.gethostname()
        address = socket.gethostbyname(host)
        api = Api(base_url=server.url)
        _finished_hook(api, server, f"http://{host}:{receiver.port}/hook")
        Writer(server, "p").exit(0)
        deadline = time.monotonic() + 10
        while (not _log(api) or _log(api)[0]["status"] == "pending") and time.monotonic() < deadline:
            time.sleep(0.1)
        (refused,) = _log(api)
        assert refused["status"] == "failed" and "refused" in refused["last_error"] and address in refused["last_error"]
        assert receiver.received == []
    finally:
        server.stop()


def test_bad_bodies_are_422_naming_the_problem(hook_server: LiveServer, receiver: Receiver) -> None:
    base = f"{hook_server.url}/api/v1/automations/{hook_server.entity}/p"
    state = {"type": "RUN_STATE", "filter": {"states": ["FINISHED"]}}
    noop = {"type": "NO_OP"}
    cases = [
        ({"name": "a", "event": {"type": "RUN_STATE", "filter": {"states": ["FINISHED"], "run": {
            "display_name": {"$regex": "(unclosed"}}}}, "action": noop}, "does not compile"),
        ({"name": "a", "event": {"type": "RUN_STATE", "filter": {"states": ["FINISHED"], "run": {
            "tags": {"$near": 1}}}}, "action": noop}, "unknown operator '$near'"),
        ({"name": "a", "event": {"type": "RUN_STATE", "filter": {"states": ["EXPLODED"]}}, "action": noop},
         "state must be one of"),
        ({"name": "a", "event": {"type": "RUN_METRIC", "filter": {"metric": {"threshold": {
            "name": "loss", "cmp": "~", "threshold": 1}}}}, "action": noop}, "cmp must be one of"),
        ({"name": "a", "event": {"type": "NO_SUCH"}, "action": noop}, "unknown event type"),
        ({"name": "a", "event": state, "action": {"type": "GENERIC_WEBHOOK", "integration_id": 999}},
         "no webhook integration 999"),
        ({"name": "a", "event": state, "action": {"type": "NOTIFICATION"}}, "no Slack or email integration"),
        ({"name": "a", "event": {**state, "scope": {"entity": "other", "project": "p"}}, "action": noop},
         "under its own project's path"),
        ({"name": "a", "event": state, "action": noop, "colour": 1}, "unknown fields ['colour']"),
        ({"event": state, "action": noop}, "needs name"),
        ({"name": "a", "event": state, "action": noop, "cooldown": -1}, "cooldown must be seconds"),
    ]
    for body, why in cases:
        r = http.post(base, json=body)
        assert r.status_code == 422 and why in r.json()["detail"], (body, r.status_code, r.text)
    assert http.post(base, json={"name": "ok", "event": state, "action": noop}).status_code == 200
    again = http.post(base, json={"name": "ok", "event": state, "action": noop})
    assert again.status_code == 409 and "exists" in again.json()["detail"]
    assert http.get(f"{base}/nope").status_code == 404
