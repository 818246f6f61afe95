"""System metrics and run metadata (issue 18): ``system_samples`` (one row per sample of a run's
machine, on its own time axis) and ``run_metadata`` (host, OS, Python, git, hardware).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "system_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("ts", sa.Float(precision=53), nullable=False),
        sa.Column("runtime", sa.Float(precision=53), nullable=False),
        sa.Column("data", _Json, nullable=False),
    )
    op.create_index("ix_system_samples_run", "system_samples", ["run_pk", "id"])
    op.create_table(
        "run_metadata",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", _Json, nullable=False),
        sa.Column("updated_at", sa.Float(precision=53), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_metadata")
    op.drop_index("ix_system_samples_run", table_name="system_samples")
    op.drop_table("system_samples")
