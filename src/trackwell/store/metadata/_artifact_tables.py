"""Artifact tables: collections, versions (a manifest each), memberships, aliases, usage.

A version belongs to the collection it was logged to (its *source*); a collection lists its
members by index (``v0``, ``v1``, ...). A source collection's members are its own versions; a
registry (*portfolio*) collection's members are links to versions of source collections. One
membership table serves both, so ``name:vN`` and aliases resolve the same way in either.
Migration 0008 creates these; keep the two in step.
"""

from __future__ import annotations

import sqlalchemy as sa

from trackwell.store.metadata._tables import Json, metadata

_TIME = sa.Float(precision=53)
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

artifact_collections = sa.Table(
    "artifact_collections",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "source" | "portfolio" (a registry collection)
    sa.Column("description", sa.Text),
    sa.Column("next_index", sa.Integer, nullable=False, server_default="0"),  # the next member's vN
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(128)),
    sa.UniqueConstraint("entity", "project", "name", name="uq_artifact_collections_path"),
)

artifact_versions = sa.Table(
    "artifact_versions",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
              nullable=False),  # the source collection
    sa.Column("digest", sa.String(64), nullable=False),  # the manifest's digest (sha256 hex)
    sa.Column("description", sa.Text),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("manifest", Json, nullable=False),  # {path: {"digest", "size"[, "ref"]}}
    sa.Column("size", sa.BigInteger, nullable=False),  # bytes of the stored (not referenced) entries
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="SET NULL")),  # logged by
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(128)),
    # the same contents logged again to a collection are the same version (dedup)
    sa.UniqueConstraint("collection_id", "digest", name="uq_artifact_versions_digest"),
)

artifact_members = sa.Table(
    "artifact_members",
    metadata,
    sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),  # vN
    sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("collection_id", "version_id", name="uq_artifact_members_version"),
)
sa.Index("ix_artifact_members_version", artifact_members.c.version_id)

artifact_aliases = sa.Table(
    "artifact_aliases",
    metadata,
    sa.Column("collection_id", _ID, sa.ForeignKey("artifact_collections.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),  # unique per collection: moving it is one update
    sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), nullable=False),
)
sa.Index("ix_artifact_aliases_version", artifact_aliases.c.version_id)

# Lineage inputs: the runs that used a version (its producer is artifact_versions.run_pk).
artifact_usage = sa.Table(
    "artifact_usage",
    metadata,
    sa.Column("version_id", _ID, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("used_at", _TIME, nullable=False),
)
sa.Index("ix_artifact_usage_run", artifact_usage.c.run_pk)
sa.Index("ix_artifact_versions_run", artifact_versions.c.run_pk)
