"""Deleted runs' tombstones (``deleted_runs``): a deleted run's id is not used again and its pk
is not given to another run.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("deleted_at", sa.Float(precision=53), nullable=False),
        sa.Column("deleted_by", sa.String(128)),
        sa.UniqueConstraint("entity", "project", "run_id", name="uq_deleted_runs_path"),
    )


def downgrade() -> None:
    op.drop_table("deleted_runs")
