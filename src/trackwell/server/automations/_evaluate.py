"""The evaluator: reads the events outbox after its cursor and decides, per enabled automation,
which events fire it; each firing becomes a delivery row, committed in the transaction that moves
the cursor past the event (``consume_events``). Nothing here sends anything.

Metric windows read the run's newest values from the metric store (at most ``MAX_NEW`` per run
and pass) and keep the trailing ones each window needs per (automation, run), with the step
read up to, so each logged value is evaluated once, in step order.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict
from typing import Any

from trackwell.automations._semantics import matches, metric_fires, needed, run_document
from trackwell.server.automations._payloads import (
    ARTIFACT_EVENTS,
    RUN_STATE_EVENTS,
    notification_body,
    variables,
    webhook_body,
)
from trackwell.store.metadata._automations import PENDING, SKIPPED, SqlAutomationStore
from trackwell.store.metrics import MetricStore

log = logging.getLogger("trackwell.server.automations")

CONSUMER = "automations"
PAGE = 500  # events per transaction
MAX_NEW = 10_000  # newest values of one metric read per run and pass
GAP_WAIT = 10.0  # seconds an id gap may be a transaction still committing (PostgreSQL) before it is skipped
METRIC_COOLDOWN = 86_400.0  # W&B: a run-metric automation fires at most once per run per 24 h
METRIC_TYPES = ("RUN_METRIC", "RUN_METRIC_CHANGE", "RUN_METRIC_ZSCORE")


def cooldown_of(automation: dict[str, Any]) -> float:
    if automation.get("cooldown") is not None:
        return float(automation["cooldown"])
    return METRIC_COOLDOWN if automation["event_type"] in METRIC_TYPES else 0.0


def delivery_id() -> str:
    return "msg_" + secrets.token_hex(12)


def settled(events: list[dict[str, Any]], after_id: int, now: float) -> list[dict[str, Any]]:
    """The events up to the first id gap that may still fill: on PostgreSQL ids are taken at insert
    and committed in any order, so a missing id younger than ``GAP_WAIT`` is waited for."""
    out, expected = [], after_id + 1
    for event in events:
        if event["id"] != expected and now - event["created_at"] < GAP_WAIT:
            break
        out.append(event)
        expected = event["id"] + 1
    return out


class Evaluator:
    def __init__(self, store: SqlAutomationStore, metrics: MetricStore, public_url: str) -> None:
        self.store, self.metrics, self.public_url = store, metrics, public_url

    def run_once(self) -> int:
        """One page of events evaluated and consumed; returns how many."""
        cursor = self.store.automation_cursor(CONSUMER)
        events = settled(self.store.events(after_id=cursor, limit=PAGE), cursor, time.time())
        if not events:
            return 0
        _Pass(self, events).commit(cursor)
        return len(events)


class _Pass:
    """The decisions for one page of events."""

    def __init__(self, ev: Evaluator, events: list[dict[str, Any]]) -> None:
        self.ev, self.events = ev, events
        self.by_project: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for automation in ev.store.enabled_automations():
            self.by_project[(automation["entity"], automation["project"])].append(automation)
        run_pks = {e["run_pk"] for e in events if e["run_pk"] is not None}
        self.runs = ev.store.runs_by_pk(sorted(run_pks)) if run_pks and self.by_project else {}
        ids = [a["id"] for autos in self.by_project.values() for a in autos]
        self.states = ev.store.automation_run_states(ids, sorted(run_pks)) if ids and run_pks else {}
        self.changed: dict[tuple[int, int], dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._points: dict[tuple[int, str, int | None], list[tuple[int, float]]] = {}

    def commit(self, cursor: int) -> None:
        if self.by_project:
            for event in self.events:
                self._event(event)
        self.ev.store.consume_events(CONSUMER, cursor, self.events[-1]["id"], list(self.changed.values()),
                                     self.deliveries)

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        run = self.runs.get(event["run_pk"]) if event["run_pk"] is not None else None
        if kind in ARTIFACT_EVENTS:
            self._artifact(event, ARTIFACT_EVENTS[kind], run)
            return
        if run is None:
            return
        for automation in self.by_project.get((run["entity"], run["project"]), ()):
            if automation["created_at"] > event["created_at"]:
                continue  # an automation sees what happens after it exists
            etype = automation["event_type"]
            if kind == "metrics_applied" and etype in METRIC_TYPES:
                self._metric(event, automation, run)
            elif kind in RUN_STATE_EVENTS and etype == "RUN_STATE":
                self._state(event, automation, run, RUN_STATE_EVENTS[kind])
            elif kind == "run_rewound" and etype in METRIC_TYPES:
                self._rewound(event, automation, run)

    def _state_of(self, automation: dict[str, Any], run_pk: int) -> dict[str, Any]:
        key = (automation["id"], run_pk)
        if key not in self.changed:
            old = self.states.get(key) or {"last_step": None, "tail": [], "fired_at": None}
            self.changed[key] = {"automation_id": automation["id"], "run_pk": run_pk, "last_step": old["last_step"],
                                 "tail": list(old["tail"] or []), "fired_at": old["fired_at"]}
        return self.changed[key]

    def _cooling(self, automation: dict[str, Any], state: dict[str, Any], at: float) -> bool:
        return state["fired_at"] is not None and at - state["fired_at"] < cooldown_of(automation)

    def _metric(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any]) -> None:
        flt = automation["event"]["filter"]
        if not matches(run_document(run), flt.get("run")):
            return
        metric = flt["metric"]
        (spec,) = metric.values()
        state = self._state_of(automation, run["pk"])
        key = (run["pk"], spec["name"], state["last_step"])
        if key not in self._points:
            self._points[key] = self.ev.metrics.tail(run["pk"], spec["name"], MAX_NEW, state["last_step"])
        points = self._points[key]
        if not points:
            return
        need = needed(metric)
        values = [*state["tail"], *(v for _, v in points)]
        first_new = len(state["tail"])
        state["last_step"], state["tail"] = points[-1][0], values[-need:]
        for i in range(first_new, len(values)):
            found = metric_fires(metric, values[max(0, i + 1 - need):i + 1])
            if found is None or self._cooling(automation, state, event["created_at"]):
                continue
            state["fired_at"] = event["created_at"]
            step = points[i - first_new][0]
            self._fire(event, automation, run, {"metric_name": spec["name"], "metric_value": found,
                                                "threshold": spec.get("threshold"), "step": step})
            return  # one delivery per automation and event

    def _rewound(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any]) -> None:
        step = (event.get("payload") or {}).get("step")
        state = self._state_of(automation, run["pk"])
        if isinstance(step, int) and (state["last_step"] is None or state["last_step"] > step):
            state["last_step"], state["tail"] = step, []

    def _state(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any], entered: str) -> None:
        flt = automation["event"]["filter"]
        if entered not in flt.get("states", ()) or not matches(run_document(run), flt.get("run")):
            return
        state = self._state_of(automation, run["pk"])
        if self._cooling(automation, state, event["created_at"]):
            return
        state["fired_at"] = event["created_at"]
        self._fire(event, automation, run, {"run_state": entered.lower()})

    def _artifact(self, event: dict[str, Any], event_type: str, run: dict[str, Any] | None) -> None:
        payload = event.get("payload") or {}
        aliases = [*([payload["alias"]] if payload.get("alias") else []), *(payload.get("aliases") or [])]
        tags = [*([payload["tag"]] if payload.get("tag") else []), *(payload.get("tags") or [])]
        doc = {"alias": aliases, "tag": tags, "artifact_name": payload.get("artifact_name"),
               "artifact_type": payload.get("artifact_type")}
        entity, project = payload.get("entity"), payload.get("project")
        for automation in self.by_project.get((entity, project), ()):
            scope = automation["event"]["scope"]
            if (automation["event_type"] != event_type or automation["created_at"] > event["created_at"]
                    or (scope.get("collection") and scope["collection"] != payload.get("collection"))
                    or not matches(doc, automation["event"].get("filter"))):
                continue
            self._fire(event, automation, run, None)

    def _fire(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any] | None,
              match: dict[str, Any] | None) -> None:
        values = variables(event, automation, automation["event_type"], run=run, match=match,
                           public_url=self.ev.public_url)
        action, now = automation["action"], time.time()
        body: dict[str, Any] | None = None
        if action["type"] == "GENERIC_WEBHOOK":
            body = webhook_body(action.get("payload"), values)
        elif action["type"] == "NOTIFICATION":
            body = notification_body(action, values)
        detail = {"event_type": automation["event_type"], "event_kind": event["kind"],
                  "run_id": values["run_id"], "run_name": values["run_name"], "metric_name": values["metric_name"],
                  "metric_value": values["metric_value"], "threshold": values["threshold"],
                  "run_state": values["run_state"], "alias": values["alias"], "tag": values["tag"],
                  "step": (match or {}).get("step")}
        no_op = action["type"] == "NO_OP"
        self.deliveries.append({
            "id": delivery_id(), "automation_id": automation["id"], "event_id": event["id"],
            "run_pk": event["run_pk"], "action_type": action["type"], "integration_id": action.get("integration_id"),
            "payload": body, "detail": detail, "status": SKIPPED if no_op else PENDING, "attempts": 0,
            "next_attempt_at": None if no_op else now, "created_at": now, "finished_at": now if no_op else None})
        log.info("automation %s fired on event %s (%s)", automation["name"], event["id"], event["kind"])
