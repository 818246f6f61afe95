"""Sweeps: create one (validated config, ``prior_runs``), read it and its runs, pause / resume /
stop / cancel it, register agents (at most ``max_agents`` active per sweep) and answer their
heartbeats with commands (``_sweep_dispatch``); hyperband is evaluated as heartbeats arrive.

HTTP-agnostic: ``NotFound`` no such sweep or agent, ``ValueError`` a bad config or argument,
``Conflict`` a state change the sweep does not allow, ``TooManyAgents`` the agent limit.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from trackwell.server.services import _sweep_dispatch as dispatch
from trackwell.server.services._errors import Conflict, NotFound
from trackwell.store.metadata import LifecycleError, RunStore, StateStore
from trackwell.store.metadata._sweeps import SqlSweepStore, Sweep
from trackwell.store.metrics import MetricStore
from trackwell.sweeps import (
    Search,
    SweepConfig,
    SweepConfigError,
    SweepRun,
    get_path,
    hyperband_stops,
    search_for,
    validate,
)

DEFAULT_MAX_AGENTS = 20
DEFAULT_AGENT_TIMEOUT = 60.0  # seconds without a heartbeat after which an agent's slot is free
HYPERBAND_EVERY = 1.0  # seconds between hyperband evaluations of one sweep
_ACTIONS = {"pause": ("running", "paused"), "resume": ("paused", "running"),
            "stop": (None, "finished"), "cancel": (None, "canceled")}


class TooManyAgents(Exception):
    """The sweep has its limit of active agents (HTTP 409); the message says how to raise it."""


class SweepService:
    def __init__(self, sweeps: SqlSweepStore, runs: RunStore, states: StateStore, metrics: MetricStore, *,
                 max_agents: int = DEFAULT_MAX_AGENTS, agent_timeout: float = DEFAULT_AGENT_TIMEOUT) -> None:
        self._sweeps, self._runs, self._states, self._metrics = sweeps, runs, states, metrics
        self.max_agents, self.agent_timeout = max_agents, agent_timeout
        self._hyperband_at: dict[int, float] = {}
        self._histories: dict[tuple[int, str], list[float]] = {}  # of ended runs: they no longer change
        self._hyperband_lock = threading.Lock()
        self._searches: dict[int, Search] = {}  # per sweep: a grid enumerates its combinations once

    # -- sweeps ---------------------------------------------------------------------------

    def create(self, entity: str, project: str, config: Any, prior_runs: list[str],
               actor: str | None = None) -> dict[str, Any]:
        try:
            cfg = validate(config)
        except SweepConfigError as exc:
            raise ValueError(str(exc)) from None
        search = search_for(cfg)
        prior = []
        for run_id in prior_runs:
            run = self._runs.get_run(entity, project, run_id)
            if run is None:
                raise ValueError(f"prior run {entity}/{project}/{run_id} not found; prior_runs name runs of the "
                                 "sweep's own project")
            params = self._params_of(cfg, run.get("config") or {})
            prior.append((run_id, params, search.key(params)))
        for _ in range(5):
            sweep = self._sweeps.create_sweep(entity, project, dispatch.new_id(), name=cfg.name, method=cfg.method,
                                              config=dict(config), seed=secrets.randbelow(2**31), actor=actor,
                                              prior=prior)
            if sweep is not None:
                return self._shape(sweep)
        raise RuntimeError("could not draw an unused sweep id in 5 tries")

    def get(self, entity: str, project: str, sweep_id: str) -> dict[str, Any]:
        return self._shape(self._sweep(entity, project, sweep_id))

    def list_sweeps(self, entity: str, project: str) -> list[dict[str, Any]]:
        return [self._shape(s, with_runs=False) for s in self._sweeps.list_sweeps(entity, project)]

    def runs(self, entity: str, project: str, sweep_id: str) -> list[dict[str, Any]]:
        sweep = self._sweep(entity, project, sweep_id)
        cfg = _config(sweep)
        return [{"id": r["run_id"], "params": r["params"], "state": dispatch.strategy_state(r),
                 "status": r["status"], "agent_id": r["agent_id"], "resumes": r["resumes"],
                 "stop_reason": r["stop_reason"], "created_at": r["created_at"],
                 "metric": cfg.metric.name if cfg.metric else None, "value": r["value"]}
                for r in self._sweeps.sweep_runs(sweep, cfg.metric.name if cfg.metric else None)]

    def control(self, entity: str, project: str, sweep_id: str, action: str, actor: str | None = None) -> dict[str, Any]:
        """pause / resume / stop (no new runs; running ones finish) / cancel (running ones are killed)."""
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(_ACTIONS)}")
        sweep = self._sweep(entity, project, sweep_id)
        need, new_state = _ACTIONS[action]
        now = time.time()
        with self._sweeps.locked(sweep["pk"]) as txn:
            state = txn.sweep["state"]
            if state in dispatch.ENDED_SWEEP_STATES or (need is not None and state != need):
                raise Conflict(f"sweep {sweep_id} is {state}; {action} applies to a "
                               f"{need or 'running or paused'} sweep")
            txn.set_state(new_state, f"{action} by {actor or 'the API'}", now)
            rows = txn.runs(None) if action == "cancel" else []
        for row in rows:  # outside the sweep's transaction: stop_run takes its own
            if row["run_pk"] is not None and row["run_state"] in dispatch.ACTIVE_RUN_STATES | {"crashed"}:
                self._stop(sweep, row["run_id"], row["run_pk"], f"sweep {sweep_id} canceled")
        return self.get(entity, project, sweep_id)

    # -- agents -----------------------------------------------------------------------------

    def register_agent(self, entity: str, project: str, sweep_id: str, host: str | None, pid: int | None,
                       actor: str | None = None) -> dict[str, Any]:
        sweep = self._sweep(entity, project, sweep_id)
        agent_id = dispatch.new_id(12)
        now = time.time()
        with self._sweeps.locked(sweep["pk"]) as txn:
            self._check_room(txn.agents(), sweep_id, now, None)
            txn.add_agent(agent_id, host, pid, actor, now)
        return {"agent_id": agent_id, "sweep": self._shape(sweep, with_runs=False), "agent_timeout": self.agent_timeout}

    def heartbeat(self, entity: str, project: str, sweep_id: str, agent_id: str,
                  alive: dict[str, bool], done: bool = False) -> dict[str, Any]:
        """The agent's commands: stop for its killed runs; for an idle agent a run, a resume, an
        exit, or nothing (wait). ``done``: the agent quits; its runs are released, its slot freed."""
        sweep = self._sweep(entity, project, sweep_id)
        cfg = _config(sweep)
        self._maybe_hyperband(sweep, cfg)
        now = time.time()
        with self._sweeps.locked(sweep["pk"]) as txn:
            agents = txn.agents()
            me = next((a for a in agents if a["agent_id"] == agent_id), None)
            if me is None:
                raise NotFound(f"agent {agent_id} is not an agent of sweep {entity}/{project}/{sweep_id}; start "
                               f"a new one with `trackwell agent {entity}/{project}/{sweep_id}`")
            if not done and (me["state"] != "active" or me["heartbeat_at"] < now - self.agent_timeout):
                self._check_room(agents, sweep_id, now, agent_id)  # it lapsed: back only if there is room
            txn.touch_agent(agent_id, now, state="exited" if done else "active")
            lapsed = {a["agent_id"] for a in agents
                      if a["agent_id"] != agent_id and a["heartbeat_at"] < now - self.agent_timeout}
            rows = txn.runs(cfg.metric.name if cfg.metric else None)
            dispatch.release_reported(txn, rows, agent_id, alive)
            dispatch.settle(txn, rows, lapsed, now)
            commands = dispatch.stop_commands(rows, alive)
            canceling = dispatch.to_cancel(rows, alive, txn.sweep["state"])
            holds = any(r["status"] == "assigned" and r["agent_id"] == agent_id for r in rows)
            if not done and not holds and not any(alive.values()):
                try:
                    command = dispatch.dispatch(txn, rows, cfg, self._search(sweep["pk"], cfg), agent_id, now)
                except Exception as exc:  # noqa: BLE001 - a strategy's failure crashes the sweep, visibly
                    txn.set_state("crashed", f"the {cfg.method} search failed: {type(exc).__name__}: {exc}", now)
                    command = {"type": "exit", "reason": f"sweep {sweep_id} crashed: {exc}"}
                if command is not None:
                    commands.append(command)
                if command is not None and command["type"] == "exit":
                    txn.touch_agent(agent_id, now, state="exited")
            state = txn.sweep["state"]
        for row in canceling:  # after the sweep's transaction: stop_run takes its own
            if row["run_pk"] is not None:
                self._stop(sweep, row["run_id"], row["run_pk"], f"sweep {sweep_id} canceled")
            commands.insert(0, {"type": "stop", "run_id": row["run_id"]})
        return {"commands": commands, "state": state}

    def _search(self, sweep_pk: int, cfg: SweepConfig) -> Search:
        if sweep_pk not in self._searches:
            if len(self._searches) > 1000:  # a bound, not a policy: rebuilding one is cheap
                self._searches.clear()
            self._searches[sweep_pk] = search_for(cfg)
        return self._searches[sweep_pk]

    def _check_room(self, agents: list[dict[str, Any]], sweep_id: str, now: float, me: str | None) -> None:
        active = [a for a in agents if a["agent_id"] != me and a["state"] == "active"
                  and a["heartbeat_at"] >= now - self.agent_timeout]
        if len(active) >= self.max_agents:
            raise TooManyAgents(
                f"sweep {sweep_id} already has {len(active)} active agents, this server's limit per sweep; start "
                f"the server with --max-sweep-agents N to allow more, or stop an agent (an agent silent for "
                f"{self.agent_timeout:g} s frees its slot)")

    # -- hyperband ---------------------------------------------------------------------------

    def _maybe_hyperband(self, sweep: Sweep, cfg: SweepConfig) -> None:
        if cfg.early_terminate is None or cfg.metric is None or sweep["state"] != "running":
            return
        now = time.monotonic()
        with self._hyperband_lock:  # one evaluation per sweep at a time, at most every HYPERBAND_EVERY
            if now - self._hyperband_at.get(sweep["pk"], 0.0) < HYPERBAND_EVERY:
                return
            self._hyperband_at[sweep["pk"]] = now
            rows = self._sweeps.sweep_runs(sweep, cfg.metric.name)
            runs = [SweepRun(r["run_id"], r["params"], dispatch.strategy_state(r),
                             history=self._history(sweep, r, cfg.metric.name))
                    for r in rows if r["run_pk"] is not None]
            by_id = {r["run_id"]: r for r in rows}
            for stop in hyperband_stops(runs, cfg.early_terminate, cfg.metric):
                self._stop(sweep, stop.run_id, by_id[stop.run_id]["run_pk"], stop.reason)

    def _history(self, sweep: Sweep, row: dict[str, Any], metric: str) -> list[float]:
        cached = self._histories.get((sweep["pk"], row["run_id"]))
        if cached is not None:
            return cached
        found = self._runs.lineage(sweep["entity"], sweep["project"], row["run_id"])
        values: list[float] = []
        min_step: int | None = None
        while found is not None:
            page, min_step = self._metrics.scan(found[1], [metric], min_step, 10_000)
            values += [float(v) for v in (p.get(metric) for p in page) if isinstance(v, (int, float))]
            if min_step is None:
                break
        if row["run_state"] not in dispatch.ACTIVE_RUN_STATES | {"crashed", "preempted"}:
            if len(self._histories) > 100_000:  # a bound on memory: re-reading an ended run is cheap
                self._histories.clear()
            self._histories[(sweep["pk"], row["run_id"])] = values
        return values

    def _stop(self, sweep: Sweep, run_id: str, run_pk: int, reason: str) -> None:
        try:
            self._states.stop_run(run_pk, f"sweep {sweep['sweep_id']}")
        except LifecycleError:
            return  # it ended meanwhile
        with self._sweeps.locked(sweep["pk"]) as txn:
            txn.update_run(run_id, stop_reason=reason)

    # -- shapes --------------------------------------------------------------------------------

    def _sweep(self, entity: str, project: str, sweep_id: str) -> Sweep:
        sweep = self._sweeps.get_sweep(entity, project, sweep_id)
        if sweep is None:
            raise NotFound(f"sweep {entity}/{project}/{sweep_id} not found; `trackwell sweep config.yaml` creates "
                           "one and prints its id")
        return sweep

    @staticmethod
    def _params_of(cfg: SweepConfig, config: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in cfg.params:
            try:
                value = get_path(config, p.path)
            except KeyError:
                continue
            node = out
            for part in p.path[:-1]:
                node = node.setdefault(part, {})
            node[p.path[-1]] = value
        return out

    def _shape(self, sweep: Sweep, with_runs: bool = True) -> dict[str, Any]:
        cfg = _config(sweep)
        out = {"id": sweep["sweep_id"], "entity": sweep["entity"], "project": sweep["project"],
               "name": sweep["name"], "method": sweep["method"], "config": sweep["config"], "state": sweep["state"],
               "reason": sweep["reason"], "created_at": sweep["created_at"], "updated_at": sweep["updated_at"],
               "created_by": sweep["created_by"], "expected_run_count": _expected(cfg)}
        if with_runs:
            metric = cfg.metric.name if cfg.metric else None
            rows = self._sweeps.sweep_runs(sweep, metric)
            now = time.time()
            out["run_count"] = sum(1 for r in rows if r["status"] != "prior")
            out["active_agents"] = sum(1 for a in self._sweeps.sweep_agents(sweep)
                                       if a["state"] == "active" and a["heartbeat_at"] >= now - self.agent_timeout)
            scored = [r for r in rows if r["value"] is not None and dispatch.strategy_state(r) == "finished"]
            if cfg.metric is not None and scored:
                best = (max if cfg.metric.goal == "maximize" else min)(scored, key=lambda r: r["value"])
                out["best_run"] = {"id": best["run_id"], "value": best["value"], "params": best["params"]}
        return out


def _config(sweep: Sweep) -> SweepConfig:
    return validate(sweep["config"])


def _expected(cfg: SweepConfig) -> int | None:
    size = search_for(cfg).size if cfg.method == "grid" else None
    if size is None:
        return cfg.run_cap
    return size if cfg.run_cap is None else min(size, cfg.run_cap)
