"""Run lifecycle: fork reference (parent run id + branch step); index for the crash reaper.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("fork_parent", sa.String(128)))
        batch.add_column(sa.Column("fork_step", sa.BigInteger))
    op.create_index("ix_runs_state_heartbeat", "runs", ["state", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_state_heartbeat", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("fork_step")
        batch.drop_column("fork_parent")
