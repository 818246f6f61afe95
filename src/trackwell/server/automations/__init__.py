"""The automations dispatcher: the evaluator consuming the events outbox into durable delivery
rows, and the sender that delivers them (signed, retried, logged). See docs/automations.md."""

from trackwell.server.automations._dispatch import AutomationSettings, Dispatcher, shown_url
from trackwell.server.automations._send import RetryPolicy, check_url

__all__ = ["AutomationSettings", "Dispatcher", "RetryPolicy", "check_url", "shown_url"]
