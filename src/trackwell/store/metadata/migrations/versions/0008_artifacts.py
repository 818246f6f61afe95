"""Artifacts: collections (source and registry), versions with their manifests, memberships
(``vN`` of a collection), aliases, and usage (lineage inputs).

Revision ID: 0008
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "artifact_collections",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("next_index", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.UniqueConstraint("entity", "project", "name", name="uq_artifact_collections_path"),
    )
    op.create_table(
        "artifact_versions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("metadata", _Json, nullable=False),
        sa.Column("manifest", _Json, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="SET NULL")),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.UniqueConstraint("collection_id", "digest", name="uq_artifact_versions_digest"),
    )
    op.create_index("ix_artifact_versions_run", "artifact_versions", ["run_pk"])
    op.create_table(
        "artifact_members",
        sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.UniqueConstraint("collection_id", "version_id", name="uq_artifact_members_version"),
    )
    op.create_index("ix_artifact_members_version", "artifact_members", ["version_id"])
    op.create_table(
        "artifact_aliases",
        sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("alias", sa.String(128), primary_key=True),
        sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_artifact_aliases_version", "artifact_aliases", ["version_id"])
    op.create_table(
        "artifact_usage",
        sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("used_at", _TIME, nullable=False),
    )
    op.create_index("ix_artifact_usage_run", "artifact_usage", ["run_pk"])


def downgrade() -> None:
    op.drop_table("artifact_usage")
    op.drop_table("artifact_aliases")
    op.drop_table("artifact_members")
    op.drop_table("artifact_versions")
    op.drop_table("artifact_collections")
