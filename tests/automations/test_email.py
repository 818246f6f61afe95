"""Notifications by email: a real local SMTP server (aiosmtpd) receives them."""

from __future__ import annotations

import email
import time

from aiosmtpd.controller import Controller
from conftest import Writer
from servers import LiveServer, free_port

from trackwell import Api
from trackwell.automations import EmailIntegration, OnRunState, RunEvent, SendNotification


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def test_failed_run_emails_the_team(hook_server: LiveServer) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        api = Api(base_url=hook_server.url)
        mail = api.create_integration(EmailIntegration(name="oncall", to=["ops@example.com", "ml@example.com"],
                                                       from_address="trackwell@example.com",
                                                       smtp_host="127.0.0.1", smtp_port=smtp.port))
        assert [i.name for i in api.integrations()] == ["oncall"]
        api.create_automation(OnRunState(scope=f"{hook_server.entity}/mail", filter=RunEvent.state == "failed")
                              >> SendNotification.from_integration(mail, title="Run failed",
                                                                   text="${run_name} exited: ${run_url}", level="ERROR"),
                              name="mail-failures")
        run = Writer(hook_server, "mail", name="nightly")
        run.exit(2)
        deadline = time.monotonic() + 15
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        (msg,) = inbox.messages
        assert msg["Subject"] == "[ERROR] Run failed" and msg["To"] == "ops@example.com, ml@example.com"
        assert msg["Message-ID"].startswith("<msg_")
        body = msg.get_payload()
        assert "nightly exited:" in body and f"/{hook_server.entity}/mail/runs/{run.run_id}" in body
        (delivery,) = api.automation_deliveries(api.automation("mail-failures"))
        assert delivery["attempt_log"][0]["status_code"] == 250
    finally:
        smtp.stop()
