"""The server owns delivery: a durable per-run ingest log, writer leases and lineage.

A batch is accepted into ``ingest_log`` (moving ``run_writers.accepted_seq``) before it is
projected into the stores; each projection keeps its own checkpoint (``run_writers.applied_seq``
here, ``writer_marks`` in the metric store). ``ingest_quarantine`` keeps log entries a store
refused even after validation, so one bad record never stalls its run.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WRITER_COLUMNS = (
    ("accepted_seq", sa.BigInteger, "0"),
    ("last_step", sa.BigInteger, None),
    ("step_offset", sa.BigInteger, "0"),
    ("runtime_offset", sa.Float(precision=53), "0"),
    ("lease_at", sa.Float(precision=53), None),
    ("claimed_at", sa.Float(precision=53), None),
    ("ended", sa.Boolean, sa.false()),
    ("waiting", sa.Boolean, sa.false()),
    ("shared", sa.Boolean, sa.false()),
    ("is_primary", sa.Boolean, sa.true()),
    ("label", sa.String(128), None),
    ("host", sa.String(256), None),
    ("pid", sa.Integer, None),
    ("after", sa.JSON().with_variant(JSONB(), "postgresql"), None),
    ("parent", sa.String(64), None),
)


def upgrade() -> None:
    with op.batch_alter_table("run_writers") as batch:
        for name, kind, default in _WRITER_COLUMNS:
            batch.add_column(sa.Column(name, kind, server_default=default))
    # Existing writers were applied in full: their accepted mark is their applied mark.
    op.execute("UPDATE run_writers SET accepted_seq = applied_seq, ended = "
               + ("true" if op.get_bind().dialect.name == "postgresql" else "1"))
    op.create_table(
        "ingest_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("writer", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_ingest_log_run", "ingest_log", ["run_pk", "id"])
    op.create_table(
        "ingest_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("writer", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("store", sa.String(32), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_quarantine")
    op.drop_index("ix_ingest_log_run", "ingest_log")
    op.drop_table("ingest_log")
    with op.batch_alter_table("run_writers") as batch:
        for name, _, _ in reversed(_WRITER_COLUMNS):
            batch.drop_column(name)
