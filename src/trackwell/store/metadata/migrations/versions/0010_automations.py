"""Automations (issue 14): integrations and their secrets, automations, the evaluator's outbox
cursor and per-run state, deliveries and their attempts.

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)
_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("config", _Json),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.UniqueConstraint("entity", "name", name="uq_integrations_name"),
    )
    op.create_table(
        "integration_secrets",
        sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("secret", sa.Text),
        sa.Column("access_token", sa.Text),
    )
    op.create_table(
        "automations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("event", _Json, nullable=False),
        sa.Column("action", _Json, nullable=False),
        sa.Column("cooldown", _TIME),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.UniqueConstraint("entity", "name", name="uq_automations_name"),
    )
    op.create_index("ix_automations_project", "automations", ["entity", "project"])
    op.create_table(
        "automation_cursor",
        sa.Column("consumer", sa.String(32), primary_key=True),
        sa.Column("last_event_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "automation_runs",
        sa.Column("automation_id", sa.Integer, sa.ForeignKey("automations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("last_step", sa.BigInteger),
        sa.Column("tail", _Json),
        sa.Column("fired_at", _TIME),
    )
    op.create_table(
        "automation_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("automation_id", sa.Integer, sa.ForeignKey("automations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, server_default="-1"),
        sa.Column("run_pk", sa.Integer),
        sa.Column("action_type", sa.String(32), nullable=False),
        sa.Column("integration_id", sa.Integer),
        sa.Column("url", sa.Text),
        sa.Column("payload", _Json),
        sa.Column("detail", _Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _TIME),
        sa.Column("claimed_by", sa.String(32)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("automation_id", "event_id", "step", name="uq_deliveries_event"),
    )
    op.create_index("ix_deliveries_due", "automation_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_automation", "automation_deliveries", ["automation_id", "created_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(40), sa.ForeignKey("automation_deliveries.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("duration_ms", _TIME),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("response", sa.Text),
    )
    op.create_index("ix_attempts_delivery", "delivery_attempts", ["delivery_id", "attempt"])


def downgrade() -> None:
    for table in ("delivery_attempts", "automation_deliveries", "automation_runs", "automation_cursor",
                  "automations", "integration_secrets", "integrations"):
        op.drop_table(table)
