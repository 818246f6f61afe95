"""Automations end to end: a real server subprocess evaluates runs logged to it and POSTs to a
real receiver on a loopback port; signatures are checked with the ``standardwebhooks`` package."""

from __future__ import annotations

import time

from conftest import Writer
from receiver import Receiver
from servers import LiveServer
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
from trackwell.automations._semantics import metric_fires


def _hook(api: Api, receiver: Receiver, name: str = "receiver") -> WebhookIntegration:
    saved = api.create_integration(WebhookIntegration(name=name, url=receiver.url))
    assert saved.id is not None and saved.secret.startswith("whsec_")  # type: ignore[union-attr]
    return saved  # type: ignore[return-value]


def test_threshold_fires_once_per_run_signed_and_templated(any_hook_server: LiveServer, receiver: Receiver) -> None:
    hook_server = any_hook_server
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
    receiver.wait_for(1)
    time.sleep(1.5)
    assert [r.json for r in receiver.received] == [{"state": "failed", "id": failed.run_id}]
    assert api.automation_deliveries(api.automation("off")) == []


def test_receiver_down_then_up_gets_each_delivery_once(any_hook_server: LiveServer, receiver: Receiver) -> None:
    hook_server = any_hook_server
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


def test_cooldown_holds_across_updates_and_is_configurable(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    hook = _hook(api, receiver)
    auto = api.create_automation(OnRunMetric(scope=f"{hook_server.entity}/cool", filter=RunEvent.metric("x") > 1)
                                 >> SendWebhook.from_integration(hook, payload={"x": "${metric_value}"}), name="cool")
    run = Writer(hook_server, "cool")
    run.log({"x": 2.0})
    receiver.wait_for(1)
    auto = api.update_automation(auto, enabled=False)
    assert not auto.enabled
    auto = api.update_automation(auto, enabled=True)
    run.log({"x": 3.0})
    time.sleep(1.5)
    assert len(receiver.received) == 1  # the 24 h cooldown survives a disable and enable
    api.update_automation(auto, cooldown=0)
    run.log({"x": 4.0})
    run.log({"x": 0.5}, {"x": 5.0})
    # a cooldown of 0: every matching value fires, even two in one pass (order not guaranteed)
    assert sorted(r.json["x"] for r in receiver.wait_for(3)) == [2.0, 4.0, 5.0]


def test_change_zscore_and_windows_across_batches(hook_server: LiveServer) -> None:
    """Windows that straddle upload batches: the server keeps each automation's trailing values,
    so where a filter first matches does not depend on how the rows were batched."""
    api = Api(base_url=hook_server.url)
    scope = f"{hook_server.entity}/w"
    filters = {
        "halved": RunEvent.metric("acc").mean(2).decreases_by(frac=0.5),
        "jump": RunEvent.metric("acc").changes_by(diff=3),
        "spike": RunEvent.metric("acc").zscore(4) > 2,
        "floor": RunEvent.metric("acc").min(3) >= 4,
        "never": RunEvent.metric("acc").sum(2) < -100,
    }
    for name, flt in filters.items():
        api.create_automation(OnRunMetric(scope=scope, filter=flt) >> DoNothing(), name=name)
    values = [4.0, 4.0, 5.0, 4.0, 5.0, 20.0, 4.0, 4.0, 1.0, 1.0]  # steps 0..9
    run = Writer(hook_server, "w")
    for cut in ((0, 3), (3, 4), (4, 7), (7, 10)):  # uneven batches
        run.log(*({"acc": v} for v in values[slice(*cut)]))
    # the first firing step, by the windows' definition on the whole stream at once
    expected = {n: next((i for i in range(len(values)) if metric_fires(f.to_wire(), values[:i + 1]) is not None), None)
                for n, f in filters.items()}
    assert expected == {"halved": 7, "jump": 5, "spike": 5, "floor": 2, "never": None}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        fired = {n: [d["detail"]["step"] for d in api.automation_deliveries(api.automation(n))] for n in filters}
        if all(len(steps) == (expected[n] is not None) for n, steps in fired.items()):
            break
        time.sleep(0.2)
    assert {n: (steps[0] if steps else None) for n, steps in fired.items()} == expected
    log = api.automation_deliveries(api.automation("jump"))
    assert log[0]["status"] == "skipped" and log[0]["detail"]["metric_value"] == 15.0
