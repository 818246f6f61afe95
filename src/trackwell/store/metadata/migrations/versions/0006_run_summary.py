"""A run's summary as one row per key (``run_summary``), so a batch writes only the keys it
changes: ``runs.summary`` (the whole JSON), ``runs.pinned`` and ``metric_summaries`` (per-key
statistics) become ``run_summary``'s value, pinned flag and statistics columns.

Existing runs are backfilled from the three; the downgrade rebuilds them from ``run_summary``.
Events get the indexes their cursor reads (a run's, by id) and their retention (by kind and age)
need.
The columns are dropped with ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch-mode copy of
``runs`` would drop the old table, and its ON DELETE CASCADE would empty the tables under it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from trackwell.store.metadata._summaries import typed
from trackwell.store.metadata._tables import ExactFloat, NullableJson

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_Json = sa.JSON().with_variant(JSONB(), "postgresql")
_STATS = ("count", "sum", "min", "max", "last", "last_step")
_CHUNK = 500

_runs = sa.table("runs", sa.column("pk", sa.Integer), sa.column("summary", _Json), sa.column("pinned", _Json))


def _stats_columns() -> list[sa.ColumnClause[Any]]:
    return [sa.column("count", sa.BigInteger), sa.column("sum", ExactFloat), sa.column("min", ExactFloat),
            sa.column("max", ExactFloat), sa.column("last", ExactFloat), sa.column("last_step", sa.BigInteger)]


_metric_summaries = sa.table("metric_summaries", sa.column("run_pk", sa.Integer), sa.column("key", sa.String),
                             *_stats_columns())
_run_summary = sa.table("run_summary", sa.column("run_pk", sa.Integer), sa.column("key", sa.String),
                        sa.column("value", NullableJson), sa.column("kind", sa.Integer), sa.column("num", sa.Float),
                        sa.column("text", sa.Text), sa.column("pinned", sa.Boolean), *_stats_columns())


def _run_chunks(conn: sa.Connection) -> Iterator[list[int]]:
    pks = list(conn.execute(sa.select(_runs.c.pk).order_by(_runs.c.pk)).scalars())
    for i in range(0, len(pks), _CHUNK):
        yield pks[i:i + _CHUNK]


def _row(rows: dict[tuple[int, str], dict[str, Any]], pk: int, key: str) -> dict[str, Any]:
    return rows.setdefault((pk, key), {"run_pk": pk, "key": key, "value": None, "kind": None, "num": None,
                                       "text": None, "pinned": False, "count": 0, **dict.fromkeys(_STATS[1:])})


def upgrade() -> None:
    op.create_table(
        "run_summary",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("value", NullableJson),
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
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":  # room in each page: a batch's updates stay HOT (no index churn)
        op.execute("ALTER TABLE run_summary SET (fillfactor = 70)")
    for pks in _run_chunks(conn):
        rows: dict[tuple[int, str], dict[str, Any]] = {}
        row = functools.partial(_row, rows)
        for pk, summary, pinned in conn.execute(sa.select(_runs.c.pk, _runs.c.summary, _runs.c.pinned)
                                                .where(_runs.c.pk.in_(pks))):
            for key, value in (summary or {}).items():
                kind, num, text = typed(value)
                row(pk, key).update(value=sa.JSON.NULL if value is None else value, kind=kind, num=num, text=text)
            for key in pinned or []:
                row(pk, key)["pinned"] = True
        stats = conn.execute(sa.select(_metric_summaries).where(_metric_summaries.c.run_pk.in_(pks))).mappings()
        for found in stats:
            row(found["run_pk"], found["key"]).update({c: found[c] for c in _STATS})
        if rows:
            conn.execute(_run_summary.insert(), list(rows.values()))
    op.drop_table("metric_summaries")
    op.drop_column("runs", "summary")
    op.drop_column("runs", "pinned")
    op.create_index("ix_events_run", "events", ["run_pk", "id"])
    op.create_index("ix_events_kind_created", "events", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_created", "events")
    op.drop_index("ix_events_run", "events")
    op.add_column("runs", sa.Column("summary", _Json, nullable=False, server_default="{}"))
    op.add_column("runs", sa.Column("pinned", _Json, nullable=False, server_default="[]"))
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
    conn = op.get_bind()
    s = _run_summary.c
    for pks in _run_chunks(conn):
        summaries: dict[int, dict[str, Any]] = {pk: {} for pk in pks}
        pins: dict[int, list[str]] = {pk: [] for pk in pks}
        stats: list[dict[str, Any]] = []
        for found in conn.execute(sa.select(_run_summary, s.value.is_(None).label("missing"))
                                  .where(s.run_pk.in_(pks))).mappings():
            pk, key = found["run_pk"], found["key"]
            if not found["missing"]:
                summaries[pk][key] = found["value"]
            if found["pinned"]:
                pins[pk].append(key)
            if found["count"]:
                stats.append({"run_pk": pk, "key": key, **{c: found[c] for c in _STATS}})
        for pk in pks:
            conn.execute(_runs.update().where(_runs.c.pk == pk).values(summary=summaries[pk], pinned=sorted(pins[pk])))
        if stats:
            conn.execute(_metric_summaries.insert(), stats)
    op.drop_table("run_summary")
