"""Tables of sweeps: the sweep, the runs it handed out, the agents that ask for them.
Migration 0009 creates them; keep the two in step."""

from __future__ import annotations

import sqlalchemy as sa

from trackwell.store.metadata._tables import Json, NullableJson, metadata

sweeps = sa.Table(
    "sweeps",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity", sa.String(128), nullable=False),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("sweep_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256)),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("config", Json, nullable=False),  # as given (validated)
    # running | paused | finished | canceled | crashed
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),  # why it finished or crashed
    sa.Column("seed", sa.BigInteger, nullable=False),  # random and bayes draws derive from it
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("updated_at", sa.Float(precision=53), nullable=False),
    sa.Column("created_by", sa.String(128)),
    sa.UniqueConstraint("entity", "project", "sweep_id", name="uq_sweeps_path"),
)

# One row per run the sweep handed out (or took over from ``prior_runs``). Its state is the
# run's own (``runs``), joined by id; ``status`` is the dispatch's side of it.
sweep_runs = sa.Table(
    "sweep_runs",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("run_id", sa.String(128), nullable=False),
    sa.Column("params", Json, nullable=False),
    # grid: the combination's hash, unique per sweep, so no combination is ever handed out twice
    sa.Column("combo_key", sa.String(64)),
    # assigned (an agent holds it) | released (its agent said it ended) | requeued (preempted,
    # waiting for an agent to resume it) | prior (a run the sweep was seeded with)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("agent_id", sa.String(64)),
    sa.Column("assigned_at", sa.Float(precision=53)),
    sa.Column("resumes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stop_reason", sa.Text),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.UniqueConstraint("sweep_pk", "run_id", name="uq_sweep_runs_run"),
    sa.UniqueConstraint("sweep_pk", "combo_key", name="uq_sweep_runs_combo"),
)

sweep_agents = sa.Table(
    "sweep_agents",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.pk", ondelete="CASCADE"), nullable=False),
    sa.Column("agent_id", sa.String(64), nullable=False, unique=True),
    sa.Column("host", sa.String(256)),
    sa.Column("pid", sa.Integer),
    sa.Column("state", sa.String(16), nullable=False),  # active | exited
    sa.Column("heartbeat_at", sa.Float(precision=53), nullable=False),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("created_by", sa.String(128)),
    sa.Column("extra", NullableJson),
)
sa.Index("ix_sweep_agents_sweep", sweep_agents.c.sweep_pk, sweep_agents.c.state, sweep_agents.c.heartbeat_at)
