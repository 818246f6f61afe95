"""The server's two automation tasks: the evaluator (outbox -> delivery rows) and the sender
(delivery rows -> HTTP attempts, retried on the policy's schedule). Both keep all their state in
the database, so a restart loses nothing and resumes where it stopped; a delivery being sent
when the process died is sent again, with the same ``webhook-id``, once its claim runs out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from trackwell.server.automations._evaluate import PAGE, Evaluator
from trackwell.server.automations._send import Outcome, RetryPolicy, Sender
from trackwell.store.metadata import MetadataStore
from trackwell.store.metadata._automations import DELIVERED, FAILED, PENDING, CursorMoved
from trackwell.store.metrics import MetricStore

log = logging.getLogger("trackwell.server.automations")


@dataclass(frozen=True)
class AutomationSettings:
    public_url: str = "http://127.0.0.1:8080"
    allow_private: bool = False
    policy: RetryPolicy = RetryPolicy()
    interval: float = 0.5  # seconds between polls when idle


def shown_url(integration: dict[str, Any]) -> str:
    """A Slack URL is its own secret: the log and the API show its scheme and host only."""
    if integration["kind"] == "slack":
        parts = urlsplit(integration["url"])
        return f"{parts.scheme}://{parts.netloc}/…"
    if integration["kind"] == "email":
        return f"{integration['url']} -> {', '.join((integration.get('config') or {}).get('to') or [])}"
    return str(integration["url"])


class Dispatcher:
    def __init__(self, store: MetadataStore, metrics: MetricStore, settings: AutomationSettings) -> None:
        self.store, self.settings = store, settings
        self.evaluator = Evaluator(store, metrics, settings.public_url)
        self._wake = asyncio.Event()
        self._claimant = secrets.token_hex(8)

    async def run(self) -> None:
        """Both loops until cancelled."""
        sender = Sender(self.settings.policy, self.settings.allow_private)
        released = await asyncio.to_thread(self.store.release_claims, time.time())
        if released:
            log.warning("%d webhook deliveries were in flight when the server stopped; sending them again", released)
        try:
            await asyncio.gather(self._evaluate_forever(), self._deliver_forever(sender))
        finally:
            with contextlib.suppress(Exception):
                await sender.close()

    async def _evaluate_forever(self) -> None:
        """Passes at most every ``interval`` seconds, and busy at most ~10 % of the time (a pass
        that took t waits 9 t): under heavy ingest the evaluator takes bigger pages, less often,
        instead of taking CPU from ingest."""
        while True:
            started = time.perf_counter()
            try:
                consumed = await asyncio.to_thread(self.evaluator.run_once)
            except CursorMoved:
                consumed = PAGE  # another process took the page: read on from its cursor
            except Exception:
                log.exception("automation evaluation failed; retrying")
                consumed = 0
            if consumed:
                self._wake.set()
            busy = time.perf_counter() - started
            await asyncio.sleep(max(self.settings.interval if consumed < PAGE else 0.0, 9 * busy))

    async def _deliver_forever(self, sender: Sender) -> None:
        while True:
            try:
                due = await asyncio.to_thread(self.store.claim_due_deliveries, time.time(),
                                              self.settings.policy.lease, self._claimant)
                if due:
                    await asyncio.gather(*(self._deliver(sender, d) for d in due))
                    continue
            except Exception:
                log.exception("automation delivery failed; retrying")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.interval)

    def _target(self, delivery: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None, str | None]:
        """The integration to send to (a notification without one: the entity's oldest Slack or
        email integration, its default channel) and its secret and token."""
        integration_id = delivery["integration_id"]
        if integration_id is None:
            channels = [i for i in self.store.integrations(delivery["entity"]) if i["kind"] in ("slack", "email")]
            if not channels:
                return None, None, None
            integration_id = channels[0]["id"]
        integration = self.store.integration(integration_id)
        if integration is None:
            return None, None, None
        secret, token = self.store.integration_secrets(integration_id)
        return integration, secret, token

    async def _deliver(self, sender: Sender, delivery: dict[str, Any]) -> None:
        integration, secret, token = await asyncio.to_thread(self._target, delivery)
        if integration is None:
            outcome = Outcome(error="no integration to send to: it was deleted, or the entity has no Slack "
                                    "integration for a notification; create one and redeliver")
            url = None
        else:
            url = shown_url(integration)
            send = sender.send_email if integration["kind"] == "email" else sender.send
            outcome = await send(delivery["id"], integration, delivery["payload"], secret, token)
        now = time.time()
        status, next_at = DELIVERED, None
        if not outcome.ok:
            delay = self.settings.policy.next_delay(delivery["attempts"] + 1, outcome.retry_after) \
                if outcome.retryable else None
            status, next_at = (FAILED, None) if delay is None else (PENDING, now + delay)
        attempt = {"at": now, "duration_ms": round(outcome.duration_ms, 3), "status_code": outcome.status_code,
                   "error": outcome.error, "response": outcome.response}
        await asyncio.to_thread(self.store.record_attempt, delivery["id"], attempt, status, next_at, now, url)
        if status == FAILED:
            log.warning("delivery %s of automation %s failed for good: %s", delivery["id"],
                        delivery["automation_id"], outcome.error)
