"""Blobs and their references: ``blobs`` (one row per SHA-256 digest the server knows),
``blob_refs`` (the reference count, one row per thing that needs a blob) and ``run_files``
(a run's files by name).

Reference counting: a blob is live while any ``blob_refs`` row names it. Whoever makes a blob
needed inserts a row ``(digest, kind, owner)`` in the same transaction as the row that needs it,
and deletes it in the transaction that drops that need:

- run files: ``kind="run"``, ``owner=str(run_pk)`` (one row per run and digest, however many of
  the run's files share the bytes);
- artifacts (migration 0008): ``kind="artifact"``, ``owner=str(version_pk)`` for every entry of
  the version's manifest and for the manifest blob itself.

``blob_refs.digest`` references ``blobs.digest`` without cascade: gc deletes a ``blobs`` row only
where no reference exists, and a reference committed meanwhile makes that delete fail (the
foreign key), so gc never frees a blob something has just come to need. ``touched_at`` is set
when bytes are published and when a client asks whether the server has a blob (to skip an
upload): gc leaves blobs touched within its grace period, which covers the gap between an
upload (or that question) and the reference the client commits next.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger),  # NULL until the bytes are stored
        sa.Column("stored", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("touched_at", _TIME, nullable=False),
    )
    op.create_table(
        "blob_refs",
        sa.Column("digest", sa.String(64), sa.ForeignKey("blobs.digest"), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(256), primary_key=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_blob_refs_owner", "blob_refs", ["kind", "owner"])
    op.create_table(
        "run_files",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_files")
    op.drop_index("ix_blob_refs_owner", table_name="blob_refs")
    op.drop_table("blob_refs")
    op.drop_table("blobs")
