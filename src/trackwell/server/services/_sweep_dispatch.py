"""The sweep controller's decisions inside one locked sweep transaction (``SweepTxn``): settle the
dispatch state of the sweep's runs, then answer one agent's heartbeat with its commands.

Rules (docs/sweeps.md): a run handed to an agent is ``assigned``; it is ``released`` when that
agent reports it ended or the agent's heartbeat lapses; a released run the lifecycle made
``preempted`` is ``requeued`` and the next idle agent gets a ``resume`` for the same id before any
new run. New runs come from the strategy; ``run_cap`` counts every run handed out. A sweep with
nothing left to hand out and nothing in flight finishes; so does one whose ``metric.target`` a
run reached.
"""

from __future__ import annotations

import random
import secrets
import string
from typing import Any

from trackwell.store.metadata._sweeps import SweepTxn
from trackwell.sweeps import Search, SweepConfig, SweepRun

_ALPHABET = string.ascii_lowercase + string.digits
ACTIVE_RUN_STATES = frozenset({"running", "preempting"})
ENDED_SWEEP_STATES = frozenset({"finished", "canceled", "crashed"})


def new_id(length: int = 8) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def strategy_state(row: dict[str, Any]) -> str:
    """A sweep run's state as strategies see it: the run's own once it exists."""
    if row["run_state"] is not None:
        return str(row["run_state"])
    return "failed" if row["status"] == "released" else "pending"  # released unstarted: its program failed


def as_sweep_runs(rows: list[dict[str, Any]]) -> list[SweepRun]:
    return [SweepRun(r["run_id"], r["params"], strategy_state(r), r["value"], key=r["combo_key"]) for r in rows]


def settle(txn: SweepTxn, rows: list[dict[str, Any]], lapsed_agents: set[str], now: float) -> None:
    """Release runs whose agent is gone (one it never started goes back to the queue as it is);
    requeue released runs that ended preempted."""
    for row in rows:
        if row["status"] == "assigned" and row["agent_id"] in lapsed_agents:
            row["status"] = "requeued" if row["run_state"] is None else "released"
            txn.update_run(row["run_id"], status=row["status"])
        if row["status"] == "released" and row["run_state"] == "preempted":
            row["status"] = "requeued"
            txn.update_run(row["run_id"], status="requeued", agent_id=None)


def release_reported(txn: SweepTxn, rows: list[dict[str, Any]], agent_id: str, alive: dict[str, bool]) -> None:
    """Runs the agent held and no longer reports alive: released."""
    for row in rows:
        if row["status"] == "assigned" and row["agent_id"] == agent_id and not alive.get(row["run_id"], False):
            row["status"] = "released"
            txn.update_run(row["run_id"], status="released")


def stop_commands(rows: list[dict[str, Any]], alive: dict[str, bool]) -> list[dict[str, Any]]:
    """A stop for each run the agent runs that was killed (hyperband, a user, a canceled sweep)."""
    by_id = {r["run_id"]: r for r in rows}
    return [{"type": "stop", "run_id": run_id} for run_id, running in alive.items()
            if running and run_id in by_id and by_id[run_id]["run_state"] == "killed"]


def to_cancel(rows: list[dict[str, Any]], alive: dict[str, bool], sweep_state: str) -> list[dict[str, Any]]:
    """The agent's runs of a canceled sweep not stopped yet (or not started yet): to be killed
    before the agent is told to stop them, so they end killed, not failed by the stop's SIGTERM."""
    if sweep_state != "canceled":
        return []
    return [r for r in rows if alive.get(r["run_id"])
            and (r["run_state"] is None or r["run_state"] in ACTIVE_RUN_STATES | {"crashed"})]


def _command(kind: str, run_id: str, params: dict[str, Any], config: SweepConfig, resumes: int = 0) -> dict[str, Any]:
    return {"type": kind, "run_id": run_id, "program": config.program, "command": list(config.command or ()) or None,
            "args": {k: {"value": v} for k, v in params.items()}, "resumes": resumes}


def target_reached(config: SweepConfig, rows: list[dict[str, Any]]) -> str | None:
    metric = config.metric
    if metric is None or metric.target is None:
        return None
    for r in rows:
        if r["value"] is not None and metric.reached(r["value"]):
            return f"metric.target reached: run {r['run_id']} has {metric.name} = {r['value']:g}"
    return None


def dispatch(txn: SweepTxn, rows: list[dict[str, Any]], config: SweepConfig, search: Search, agent_id: str,
             now: float) -> dict[str, Any] | None:
    """The run (or resume, or exit) command for an idle agent; None: wait and ask again."""
    sweep = txn.sweep
    if sweep["state"] == "running" and (reason := target_reached(config, rows)):
        txn.set_state("finished", reason, now)
    if sweep["state"] in ENDED_SWEEP_STATES:
        return {"type": "exit", "reason": f"sweep {sweep['sweep_id']} is {sweep['state']}"
                                          + (f": {sweep['reason']}" if sweep["reason"] else "")}
    if sweep["state"] != "running":
        return None  # paused
    for row in rows:
        if row["status"] == "requeued":
            txn.update_run(row["run_id"], status="assigned", agent_id=agent_id, assigned_at=now,
                           resumes=row["resumes"] + 1)
            return _command("resume", row["run_id"], row["params"], config, row["resumes"] + 1)
    handed = sum(1 for r in rows if r["status"] != "prior")
    params = None
    if config.run_cap is None or handed < config.run_cap:
        params = search.next(as_sweep_runs(rows), random.Random(sweep["seed"] + len(rows)))
    if params is not None:
        run_id = new_id()
        txn.add_run(run_id, params, search.key(params), "assigned", agent_id, now)
        return _command("run", run_id, params, config)
    in_flight = any(r["status"] in ("assigned", "requeued")
                    or (r["status"] != "prior" and r["run_state"] in ACTIVE_RUN_STATES) for r in rows)
    if in_flight:
        return None  # a run may still be preempted and need an agent
    why = (f"run_cap {config.run_cap} reached" if config.run_cap is not None and handed >= config.run_cap
           else "every grid combination ran" if config.method == "grid" else "no runs left to propose")
    txn.set_state("finished", why, now)
    return {"type": "exit", "reason": f"sweep {sweep['sweep_id']} finished: {why}"}
