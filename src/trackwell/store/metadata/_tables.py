"""SQLAlchemy Core tables of the metadata database (SQLite or PostgreSQL).

The Alembic revisions in ``migrations/`` create these; keep the two in step.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from trackwell.store.metadata._engine import dumps, loads

metadata = sa.MetaData()

# JSONB on PostgreSQL so filters and ordering can reach inside config and summaries.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class _TextJson(sa.types.TypeDecorator[Any]):
    """JSON in a TEXT column (SQLite): a column typed JSON has NUMERIC affinity there, which turns
    a stored scalar such as ``1.0`` into the integer 1, and a long integer into a rounded real."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return "null" if value is sa.JSON.NULL else dumps(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else loads(value)


# JSON where Python None is SQL NULL (no value) and ``sa.JSON.NULL`` is JSON null.
NullableJson = _TextJson().with_variant(JSONB(none_as_null=True), "postgresql")


class _RawFloat(sa.Float[float]):
    """Float without SQLAlchemy's float() coercion on bind, so the text 'NaN' reaches SQLite."""

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None


class ExactFloat(sa.types.TypeDecorator[float]):
    """A float column that keeps NaN: SQLite would store a NaN REAL as NULL, so there NaN goes
    in as the text 'NaN' (SQLite's dynamic typing keeps it); PostgreSQL stores NaN natively."""

    impl = sa.Float(precision=53)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return _RawFloat(precision=53) if dialect.name == "sqlite" else self.impl_instance

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if dialect.name == "sqlite" and isinstance(value, float) and math.isnan(value):
            return "NaN"
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else float(value)


runs = sa.Table(
    "runs",
    metadata,
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
    # The summary is in ``run_summary``, one row per key.
    # DefineMetric summary modes: {name or glob: "min" | "max" | "mean" | "last" | "none"}.
    sa.Column("metric_modes", Json, nullable=False),
    sa.Column("console_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("updated_at", sa.Float(precision=53), nullable=False),
    sa.Column("heartbeat_at", sa.Float(precision=53)),
    sa.Column("runtime", sa.Float(precision=53)),
    sa.Column("host", sa.String(256)),
    sa.Column("program", sa.Text),
    sa.Column("python", sa.String(64)),
    # A fork reads its parent's history up to fork_step (same entity and project) by reference.
    sa.Column("fork_parent", sa.String(128)),
    sa.Column("fork_step", sa.BigInteger),
    # A fork's ancestors as [[pk, step ceiling], ...] from the parent up: one read for any depth.
    sa.Column("lineage", Json),
    sa.Column("created_by", sa.String(128)),  # the user whose key created the run
    sa.UniqueConstraint("entity", "project", "run_id", name="uq_runs_path"),
)
sa.Index("ix_runs_project_created", runs.c.entity, runs.c.project, runs.c.created_at)
sa.Index("ix_runs_state_heartbeat", runs.c.state, runs.c.heartbeat_at)  # the crash reaper's scan

# Deleted runs: the id is never used again (a late batch of the run's process gets a 410, it
# does not bring the run back) and the pk is never given to another run (SQLite would reuse the
# highest), so nothing keyed by it elsewhere (the metric store) can leak into a new run.
deleted_runs = sa.Table(
    "deleted_runs",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=False),  # the run's pk
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("run_id", sa.String(128), nullable=False),
    sa.Column("deleted_at", sa.Float(precision=53), nullable=False),
    sa.Column("deleted_by", sa.String(128)),
    sa.UniqueConstraint("entity", "project", "run_id", name="uq_deleted_runs_path"),
)

# One row per journal writer of a run: its marks, its lease and its lineage.
run_writers = sa.Table(
    "run_writers",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("writer", sa.String(64), primary_key=True),
    sa.Column("applied_seq", sa.BigInteger, nullable=False),  # projected into this database
    sa.Column("accepted_seq", sa.BigInteger, server_default="0"),  # in ingest_log: what the client is acked
    sa.Column("last_step", sa.BigInteger),  # highest accepted History step (offset applied)
    sa.Column("step_offset", sa.BigInteger, server_default="0"),  # an offline resume's shift
    sa.Column("runtime_offset", sa.Float(precision=53), server_default="0"),
    sa.Column("lease_at", sa.Float(precision=53)),  # server time the writer was last heard from
    sa.Column("claimed_at", sa.Float(precision=53)),
    sa.Column("ended", sa.Boolean, server_default=sa.false()),  # its Exit was accepted: lease released
    sa.Column("waiting", sa.Boolean, server_default=sa.false()),  # for the writers in ``after``
    sa.Column("shared", sa.Boolean, server_default=sa.false()),
    sa.Column("is_primary", sa.Boolean, server_default=sa.true()),
    sa.Column("label", sa.String(128)),
    sa.Column("host", sa.String(256)),
    sa.Column("pid", sa.Integer),
    sa.Column("after", Json),  # {writer: last seq}: earlier processes this one continues
    sa.Column("parent", sa.String(64)),  # a dead-letter retry writer: whose records it resends
)

# The server's durable log: a batch is here (and acknowledged) before it reaches the stores.
ingest_log = sa.Table(
    "ingest_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("writer", sa.String(64), nullable=False),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # msgpack list of records, offsets applied
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)
sa.Index("ix_ingest_log_run", ingest_log.c.run_pk, ingest_log.c.id)

# Log entries a store refused although they passed validation: kept, never silently dropped.
ingest_quarantine = sa.Table(
    "ingest_quarantine",
    metadata,
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

# A run's summary, one row per key, so a batch writes only the keys it changes (a run may have
# 10,000 of them). ``value``: what the summary shows (SQL NULL: the key is not in it); ``pinned``:
# set or deleted by the user, history no longer changes it; the rest: statistics of the key's
# numeric history (``count`` 0: none), which min/max/mean summaries and the metrics route read.
run_summary = sa.Table(
    "run_summary",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", NullableJson),
    # the value typed for sorting and filtering without parsing JSON (``_summaries.typed``):
    # kind 0 number, 1 string, 2 bool, 3 JSON null, 4 other; num for numbers and bools, text for strings
    sa.Column("kind", sa.Integer),
    sa.Column("num", sa.Float(precision=53)),
    sa.Column("text", sa.Text),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("sum", ExactFloat),
    sa.Column("min", ExactFloat),
    sa.Column("max", ExactFloat),
    sa.Column("last", ExactFloat),
    sa.Column("last_step", sa.BigInteger),
    sqlite_with_rowid=False,  # rows clustered by (run, key): a run's keys are one range
)

console_lines = sa.Table(
    "console_lines",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("stream", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("ts", sa.Float(precision=53), nullable=False),
)

# System metrics (``SystemSample`` records): one row per sample, on the run's own time axis
# (no step); a sample every 15 s is 240 rows an hour, read back downsampled by row.
system_samples = sa.Table(
    "system_samples",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("ts", sa.Float(precision=53), nullable=False),
    sa.Column("runtime", sa.Float(precision=53), nullable=False),
    sa.Column("data", Json, nullable=False),  # {"system/...": float}
    sa.Index("ix_system_samples_run", "run_pk", "id"),
)

# What the run ran on (``RunMetadata`` records, merged by top-level key).
run_metadata = sa.Table(
    "run_metadata",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("data", Json, nullable=False),
    sa.Column("updated_at", sa.Float(precision=53), nullable=False),
)

# Outbox: written in the same transaction as the change it announces.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE")),
    sa.Column("payload", Json, nullable=False),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("actor", sa.String(128)),  # the user who made the change (None: the server itself)
)
sa.Index("ix_events_run", events.c.run_pk, events.c.id)  # a run's events by cursor
sa.Index("ix_events_kind_created", events.c.kind, events.c.created_at)  # retention (``prune_events``)

# -- accounts: who may see and change what (server/auth) -----------------------------------------

# The namespace of runs: a user's own name or a team's. One table, so the two never collide.
entities = sa.Table(
    "entities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "user" | "team"
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id"), nullable=False, unique=True),
    sa.Column("email", sa.String(256)),
    sa.Column("display_name", sa.String(256)),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("kind", sa.String(16), nullable=False, server_default="user"),  # "user" | "service"
    sa.Column("team_id", sa.Integer, sa.ForeignKey("entities.id")),  # a service account's team
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("password_hash", sa.Text),  # scrypt; None: keys only
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("team_id", sa.Integer, sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # "admin" | "member" | "viewer"
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),  # public: how a key is listed
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 of the whole key, hex
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(128)),
    sa.Column("read_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("last_used_at", sa.Float(precision=53)),
    sa.Column("expires_at", sa.Float(precision=53)),
    sa.Column("revoked_at", sa.Float(precision=53)),
)

# Browser sessions: the cookie holds the id; the table its digest and the CSRF token.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("expires_at", sa.Float(precision=53), nullable=False),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),  # "private" | "team" | "public"
    sa.Column("created_by", sa.String(128)),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.UniqueConstraint("entity", "name", name="uq_projects_path"),
)

# Administrative actions: user, team, key and role changes, visibility changes, deletions.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float(precision=53), nullable=False),
    sa.Column("actor", sa.String(128)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    sa.Column("detail", Json, nullable=False),
)

# Blobs the server knows by SHA-256, what references them (the reference count gc reads) and
# each run's files (migration 0007 explains the protocol).
blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger),
    sa.Column("stored", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("touched_at", sa.Float(precision=53), nullable=False),
)

blob_refs = sa.Table(
    "blob_refs",
    metadata,
    sa.Column("digest", sa.String(64), sa.ForeignKey("blobs.digest"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(256), primary_key=True),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
)
sa.Index("ix_blob_refs_owner", blob_refs.c.kind, blob_refs.c.owner)

run_files = sa.Table(
    "run_files",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(1024), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Float(precision=53), nullable=False),
)
