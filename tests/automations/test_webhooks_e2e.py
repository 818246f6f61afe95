"""Automations end to end: a real server subprocess evaluates runs logged to it and POSTs to a
real receiver on a loopback port; signatures are checked with the ``standardwebhooks`` package."""

from __future__ import annotations

import time

from conftest import Writer
from receiver import Receiver
from servers import LiveServer, http
from standardwebhooks.webhooks import Webhook

from trackwell import Api
from trackwell.automations import (
    DoNothing,
    OnRunMetric,
    OnRunState,
    RunEvent,
    SendWebhook,
    WebhookIntegration,
)


def _hook(api: Api, receiver: Receiver, name: str = "receiver") -> WebhookIntegration:
    saved = api.create_integration(WebhookIntegration(name=name, url=receiver.url))
    assert saved.id is not None and saved.secret.startswith("whsec_")  # type: ignore[union-attr]
    return saved  # type: ignore[return-value]


def test_threshold_fires_once_per_run_signed_and_templated(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    hook = _hook(api, receiver)
    event = OnRunMetric(scope=f"{hook_server.entity}/p", filter=RunEvent.metric("loss").mean(3) > 0.5)
    saved = api.create_automation(event >> SendWebhook.from_integration(
        hook, payload={"run": "${run_name}", "value": "${metric_value}", "text": "loss of ${run_id} is ${metric_value}",
                       "limit": "${threshold}"}), name="loss-high")
    assert saved.enabled and saved.event.event_type == "RUN_METRIC"

    run = Writer(hook_server, "p", name="baseline")
    run.log({"loss": 0.25}, {"loss": 0.25}, {"loss": 0.25})  # mean 0.25: quiet
    run.log({"loss": 0.25}, {"loss": 1.0}, {"loss": 1.0})  # (0.25, 0.25, 1) 0.5 is not > 0.5; then 0.75: fires
    run.log({"loss": 1.0}, {"loss": 2.0})  # still above: the 24 h cooldown holds
    got = receiver.wait_for(1)
    time.sleep(2.0)  # a second firing would have arrived by now
    assert len(receiver.received) == 1
    msg = got[0]
    Webhook(hook.secret).verify(msg.body, msg.headers)  # type: ignore[attr-defined]
    body = msg.json
    assert body == {"run": "baseline", "value": 0.75, "text": f"loss of {run.run_id} is 0.75", "limit": 0.5}
    assert msg.headers["webhook-id"].startswith("msg_")

    other = Writer(hook_server, "p")  # each run is evaluated on its own
    other.log({"loss": 3.0}, {"loss": 3.0}, {"loss": 3.0})
    assert len(receiver.wait_for(2)) == 2

    log = api.automation_deliveries(api.automation("loss-high"))
    assert [d["status"] for d in log] == ["delivered", "delivered"]
    assert all(d["attempt_log"][0]["status_code"] == 200 for d in log)


def test_disabled_never_fires_and_state_events(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    hook = _hook(api, receiver)
    scope = f"{hook_server.entity}/states"
    off = api.create_automation(OnRunMetric(scope=scope, filter=RunEvent.metric("x") > 0) >> DoNothing(),
                                name="off", enabled=False)
    assert not off.enabled
    api.create_automation(OnRunState(scope=scope, filter=RunEvent.state.in_(["failed", "crashed"])
                                     & RunEvent.tags.eq("watch"))
                          >> SendWebhook.from_integration(hook, payload={"state": "${run_state}", "id": "${run_id}"}),
                          name="failures")
    ok = Writer(hook_server, "states", tags=["watch"])
    ok.log({"x": 1.0})
    ok.exit(0)  # finished: not watched
    unwatched = Writer(hook_server, "states")
    unwatched.exit(1)  # failed, but not tagged
    failed = Writer(hook_server, "states", tags=["watch"])
    failed.exit(3)
    got = receiver.wait_for(1)
    time.sleep(1.5)
    assert [r.json for r in receiver.received] == [{"state": "failed", "id": failed.run_id}]
    assert api.automation_deliveries(api.automation("off")) == []


def test_receiver_down_then_up_gets_each_delivery_once(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    down = Receiver(receiver.port + 0)  # same port, stopped: nothing listens for a while
    receiver.stop()
    hook = _hook(api, down, name="flaky")
    api.create_automation(OnRunState(scope=f"{hook_server.entity}/d", filter=RunEvent.state == "finished")
                          >> SendWebhook.from_integration(hook), name="done")
    runs = [Writer(hook_server, "d") for _ in range(3)]
    for run in runs:
        run.exit(0)
    time.sleep(2.5)  # a few attempts refused
    down.start()
    got = down.wait_for(3, timeout=30)
    time.sleep(2.0)
    down.stop()
    ids = [r.headers["webhook-id"] for r in down.received]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert sorted(r.json["run"]["id"] for r in got) == sorted(r.run_id for r in runs)
    log = api.automation_deliveries(api.automation("done"))
    assert all(d["status"] == "delivered" and len(d["attempt_log"]) >= 2 for d in log)
    assert any(a["error"] and "Connect" in a["error"] for d in log for a in d["attempt_log"])
