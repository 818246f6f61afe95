"""Tables of automations (issue 14): integrations and their secrets, automations, the
evaluator's cursor and per-run state, deliveries and their attempts. Migration 0010 creates them."""

from __future__ import annotations

import sqlalchemy as sa

from trackwell.store.metadata._tables import Json, metadata

_TIME = sa.Float(precision=53)
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

integrations = sa.Table(
    "integrations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "slack" | "webhook"
    sa.Column("url", sa.Text, nullable=False),  # a Slack URL is a secret: the API shows its host only
    sa.Column("config", Json),  # email: {to, from_address, username, starttls}
    sa.Column("created_by", sa.String(128)),
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("entity", "name", name="uq_integrations_name"),
)

# Kept apart so no listing query can select them by accident; never returned by the API.
integration_secrets = sa.Table(
    "integration_secrets",
    metadata,
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("secret", sa.Text),  # the signing secret (Standard Webhooks)
    sa.Column("access_token", sa.Text),  # sent as Authorization: Bearer
)

automations = sa.Table(
    "automations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("event", Json, nullable=False),  # {"type", "scope", "filter"} as the client sends it
    sa.Column("action", Json, nullable=False),
    sa.Column("cooldown", _TIME),  # seconds; None: the event type's default
    sa.Column("created_by", sa.String(128)),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.UniqueConstraint("entity", "name", name="uq_automations_name"),
)
sa.Index("ix_automations_project", automations.c.entity, automations.c.project)

# How far the evaluator has read the events outbox (one row per consumer).
automation_cursor = sa.Table(
    "automation_cursor",
    metadata,
    sa.Column("consumer", sa.String(32), primary_key=True),
    sa.Column("last_event_id", sa.BigInteger, nullable=False),
)

# Per automation and run: the metric values a window still needs, the last step read, the last firing.
automation_runs = sa.Table(
    "automation_runs",
    metadata,
    sa.Column("automation_id", sa.Integer, sa.ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("last_step", sa.BigInteger),
    sa.Column("tail", Json),  # the trailing values, oldest first
    sa.Column("fired_at", _TIME),
)

automation_deliveries = sa.Table(
    "automation_deliveries",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # the webhook-id: the same on every attempt
    sa.Column("automation_id", sa.Integer, sa.ForeignKey("automations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False, server_default="-1"),  # the metric value's step that fired
    sa.Column("run_pk", sa.Integer),  # no foreign key: the log outlives a deleted run
    sa.Column("action_type", sa.String(32), nullable=False),
    sa.Column("integration_id", sa.Integer),
    sa.Column("url", sa.Text),  # as shown (a Slack URL's host only)
    sa.Column("payload", Json),  # the body sent, secrets left as ${ACCESS_TOKEN}
    sa.Column("detail", Json, nullable=False),  # what fired: event type, run, metric, value, threshold
    # pending -> delivered | failed (retries exhausted or a refusal that retrying cannot fix) | skipped (no-op)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", _TIME),
    sa.Column("claimed_by", sa.String(32)),  # the process sending it now (its lease: next_attempt_at)
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("finished_at", _TIME),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    # one per event (and step, for metric values): consuming an event twice cannot send twice
    sa.UniqueConstraint("automation_id", "event_id", "step", name="uq_deliveries_event"),
)
sa.Index("ix_deliveries_due", automation_deliveries.c.status, automation_deliveries.c.next_attempt_at)
sa.Index("ix_deliveries_automation", automation_deliveries.c.automation_id, automation_deliveries.c.created_at)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), sa.ForeignKey("automation_deliveries.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", _TIME, nullable=False),
    sa.Column("duration_ms", _TIME),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("response", sa.Text),  # the first KiB of the answer
)
sa.Index("ix_attempts_delivery", delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
