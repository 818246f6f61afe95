"""Initial schema: runs, run_writers, metric_summaries, console_lines, events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from trackwell.store.metadata._tables import ExactFloat

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("group", sa.String(256)),
        sa.Column("job_type", sa.String(256)),
        sa.Column("tags", Json, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("config", Json, nullable=False),
        sa.Column("summary", Json, nullable=False),
        sa.Column("pinned", Json, nullable=False),
        sa.Column("metric_modes", Json, nullable=False),
        sa.Column("console_count", sa.Integer, nullable=False),
        sa.Column("created_at", Double, nullable=False),
        sa.Column("updated_at", Double, nullable=False),
        sa.Column("heartbeat_at", Double),
        sa.Column("runtime", Double),
        sa.Column("host", sa.String(256)),
        sa.Column("program", sa.Text),
        sa.Column("python", sa.String(64)),
        sa.UniqueConstraint("entity", "project", "run_id", name="uq_runs_path"),
    )
    op.create_index("ix_runs_project_created", "runs", ["entity", "project", "created_at"])
    op.create_table(
        "run_writers",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("writer", sa.String(64), primary_key=True),
        sa.Column("applied_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "metric_summaries",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("last", ExactFloat),
        sa.Column("last_step", sa.BigInteger),
        sa.Column("min", ExactFloat),
        sa.Column("max", ExactFloat),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("sum", ExactFloat),
    )
    op.create_table(
        "console_lines",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ts", Double, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE")),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", Double, nullable=False),
    )


def downgrade() -> None:
    for table in ("events", "console_lines", "metric_summaries", "run_writers"):
        op.drop_table(table)
    op.drop_index("ix_runs_project_created", "runs")
    op.drop_table("runs")
