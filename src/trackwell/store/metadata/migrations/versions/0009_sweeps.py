"""Sweeps: ``sweeps``, the runs they handed out (``sweep_runs``) and their agents (``sweep_agents``).

Revision ID: 0009
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trackwell.store.metadata._tables import Json, NullableJson

revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("sweep_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("config", Json, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.Column("updated_at", sa.Float(precision=53), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.UniqueConstraint("entity", "project", "sweep_id", name="uq_sweeps_path"),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("combo_key", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("assigned_at", sa.Float(precision=53)),
        sa.Column("resumes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stop_reason", sa.Text),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.UniqueConstraint("sweep_pk", "run_id", name="uq_sweep_runs_run"),
        sa.UniqueConstraint("sweep_pk", "combo_key", name="uq_sweep_runs_combo"),
    )
    op.create_table(
        "sweep_agents",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False, unique=True),
        sa.Column("host", sa.String(256)),
        sa.Column("pid", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("heartbeat_at", sa.Float(precision=53), nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column("extra", NullableJson),
    )
    op.create_index("ix_sweep_agents_sweep", "sweep_agents", ["sweep_pk", "state", "heartbeat_at"])


def downgrade() -> None:
    op.drop_table("sweep_agents")
    op.drop_table("sweep_runs")
    op.drop_table("sweeps")
