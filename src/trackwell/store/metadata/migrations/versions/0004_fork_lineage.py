"""A fork's ancestry kept on its row, so reading it is one query however long the chain.

``runs.lineage``: ``[[ancestor pk, step ceiling], ...]`` from the parent up (NULL for a plain
run, and for forks made before this revision, whose chain is walked as before).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lineage", sa.JSON().with_variant(JSONB(), "postgresql")))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lineage")
