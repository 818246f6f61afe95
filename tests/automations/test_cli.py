"""`trackwell integrations` and `trackwell automations` against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import Writer
from receiver import Receiver
from servers import LiveServer


def tw(server: LiveServer, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trackwell", *args, "--host", server.url], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "250"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_integrations_and_delivery_log(hook_server: LiveServer, receiver: Receiver) -> None:
    made = json.loads(tw(hook_server, "integrations", "create", "webhook", receiver.url, "--name", "cli", "--json"))
    assert made["secret"].startswith("whsec_") and made["url"] == receiver.url
    listed = json.loads(tw(hook_server, "integrations", "list", "--json"))["integrations"]
    assert [(i["name"], i["kind"]) for i in listed] == [("cli", "webhook")] and "secret" not in listed[0]
    from trackwell import Api
    from trackwell.automations import OnRunState, RunEvent, SendWebhook

    api = Api(base_url=hook_server.url)
    hook = api.webhook_integrations()[0]
    api.create_automation(OnRunState(scope=f"{hook_server.entity}/c", filter=RunEvent.state == "finished")
                          >> SendWebhook.from_integration(hook), name="cli-auto")
    assert "Disabled" in tw(hook_server, "automations", "disable", "c/cli-auto")
    Writer(hook_server, "c").exit(0)  # disabled: nothing
    assert "Enabled" in tw(hook_server, "automations", "enable", f"{hook_server.entity}/c/cli-auto")
    run = Writer(hook_server, "c")
    run.exit(0)
    receiver.wait_for(1)
    deadline = time.monotonic() + 10
    while True:
        log = json.loads(tw(hook_server, "automations", "deliveries", "c/cli-auto", "--json"))["deliveries"]
        if log and log[0]["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(log) == 1 and log[0]["detail"]["run_id"] == run.run_id
    text = tw(hook_server, "automations", "deliveries", "c/cli-auto")
    assert log[0]["id"] in text and "200" in text
    assert "cli-auto" in tw(hook_server, "automations", "list")
