"""The evaluator: reads the events outbox after its cursor and decides, per enabled automation,
which events fire it; each firing becomes a delivery row, committed in the transaction that moves
the cursor past the event (``consume_events``). Nothing here sends anything.

Metric windows read the run's newest values from the metric store (at most ``MAX_NEW`` per run
and pass) and keep the trailing ones each window needs per (automation, run), with the step
read up to, so each logged value is evaluated once, in step order.
"""

from __future__ import annotations

import bisect
import logging
import secrets
import time
from collections import defaultdict
from typing import Any

from trackwell.automations._semantics import fires, matches, needed, run_document
from trackwell.server.automations._payloads import (
    ARTIFACT_EVENTS,
    RUN_STATE_EVENTS,
    notification_body,
    variables,
    webhook_body,
)
from trackwell.store.metadata import MetadataStore
from trackwell.store.metadata._automations import PENDING, SKIPPED
from trackwell.store.metrics import MetricStore

log = logging.getLogger("trackwell.server.automations")

CONSUMER = "automations"
PAGE = 500  # events per transaction
MAX_NEW = 10_000  # newest values of one metric read per run and pass
GAP_WAIT = 10.0  # seconds an id gap may be a transaction still committing (PostgreSQL) before it is skipped
MAX_FIRES = 100  # deliveries of one automation for one run per pass, with a cooldown of 0
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
    def __init__(self, store: MetadataStore, metrics: MetricStore, public_url: str) -> None:
        self.store, self.metrics, self.public_url = store, metrics, public_url
        self.known: dict[int, dict[str, Any]] = {}  # the enabled automations as last read, by id

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
        ev.known = {a["id"]: a for a in ev.store.enabled_automations(ev.known)}
        for automation in ev.known.values():
            self.by_project[(automation["entity"], automation["project"])].append(automation)
        run_pks = {e["run_pk"] for e in events if e["run_pk"] is not None}
        self.runs = ev.store.runs_by_pk(sorted(run_pks)) if run_pks and self.by_project else {}
        ids = [a["id"] for autos in self.by_project.values() for a in autos]
        self.states = ev.store.automation_run_states(ids, sorted(run_pks)) if ids and run_pks else {}
        self.changed: dict[tuple[int, int], dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._points: dict[int, dict[str, tuple[list[int], list[float]]]] = {}  # per run: per metric
        # (automation, run) whose metric was read this pass: it read every point committed before the
        # page's events (points reach the metric store before their event commits), so the run's
        # later events in the page bring nothing new
        self._metric_read: set[tuple[int, int]] = set()

    def commit(self, cursor: int) -> None:
        if self.by_project:
            for event in self.events:
                self._event(event)
        changed = [s for key, s in self.changed.items() if not self._same(self.states.get(key), s)]
        self.ev.store.consume_events(CONSUMER, cursor, self.events[-1]["id"], changed, self.deliveries)

    @staticmethod
    def _same(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        return old is not None and all(old[k] == new[k] for k in ("last_step", "tail", "fired_at"))

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        run = self.runs.get(event["run_pk"]) if event["run_pk"] is not None else None
        if kind in ARTIFACT_EVENTS:
            self._artifact(event, ARTIFACT_EVENTS[kind], run)
            return
        if run is None:
            return
        for automation in self.by_project.get((run["entity"], run["project"]), ()):
            if automation["updated_at"] > event["created_at"]:
                continue  # an automation sees what happens after it exists as it is (re-enabled: not before)
            try:
                self._one(event, automation, run)
            except Exception:  # one automation's fault never stalls the others (nor the cursor)
                log.exception("automation %s could not be evaluated on event %s", automation["name"], event["id"])

    def _one(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any]) -> None:
        kind, etype = event["kind"], automation["event_type"]
        if kind == "metrics_applied" and etype in METRIC_TYPES:
            if (automation["id"], run["pk"]) not in self._metric_read:
                self._metric_read.add((automation["id"], run["pk"]))
                self._metric(event, automation, run)
        elif kind in RUN_STATE_EVENTS and etype == "RUN_STATE":
            self._state(event, automation, run, RUN_STATE_EVENTS[kind])
        elif kind == "run_rewound" and etype in METRIC_TYPES:
            self._rewound(event, automation, run)
        elif kind == "run_alert" and etype == "RUN_ALERT":
            alert = event.get("payload") or {}
            self._fire(event, automation, run, {"alert_title": alert.get("title"), "alert_text": alert.get("text"),
                                                "alert_level": alert.get("level")})

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
        if not self._run_matches(run, flt.get("run")):
            return
        metric = flt["metric"]
        (spec,) = metric.values()
        state = self._state_of(automation, run["pk"])
        steps, read = self._read(run)[spec["name"]]
        first = bisect.bisect_right(steps, state["last_step"]) if state["last_step"] is not None else 0
        points = (steps[first:], read[first:])  # (steps, values) this automation has not seen
        if not points[0]:
            return
        need = needed(metric)
        values = state["tail"] + points[1]
        first_new = len(state["tail"])
        state["last_step"], state["tail"] = points[0][-1], values[-need:]
        if self._cooling(automation, state, event["created_at"]):
            return  # fired within its cooldown: the windows move on, nothing to evaluate
        # a cooldown of 0: every matching value fires (at most MAX_FIRES per run and pass); else the first
        for i, value in fires(metric, values, first_new, limit=MAX_FIRES if cooldown_of(automation) == 0 else 1):
            state["fired_at"] = event["created_at"]
            self._fire(event, automation, run, {"metric_name": spec["name"], "metric_value": value,
                                                "threshold": spec.get("threshold"), "step": points[0][i - first_new]})

    def _read(self, run: dict[str, Any]) -> dict[str, tuple[list[int], list[float]]]:
        """The run's new points of every metric its project's automations watch: one read per run
        and pass, from the lowest step any of them has seen."""
        pk = run["pk"]
        if pk not in self._points:
            after: dict[str, int | None] = {}
            for automation in self.by_project.get((run["entity"], run["project"]), ()):
                if automation["event_type"] in METRIC_TYPES:
                    (spec,) = automation["event"]["filter"]["metric"].values()
                    seen = self._state_of(automation, pk)["last_step"]
                    name = spec["name"]
                    after[name] = None if seen is None or (name in after and after[name] is None) \
                        else min(seen, after.get(name, seen))  # type: ignore[type-var]
            self._points[pk] = self.ev.metrics.tail(pk, after, MAX_NEW)
        return self._points[pk]

    def _run_matches(self, run: dict[str, Any], flt: dict[str, Any] | None) -> bool:
        if not flt:
            return True
        if "_document" not in run:
            run["_document"] = run_document(run)
        return matches(run["_document"], flt)

    def _rewound(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any]) -> None:
        self._metric_read.discard((automation["id"], run["pk"]))
        step = (event.get("payload") or {}).get("step")
        state = self._state_of(automation, run["pk"])
        if isinstance(step, int) and (state["last_step"] is None or state["last_step"] > step):
            state["last_step"], state["tail"] = step, []

    def _state(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any], entered: str) -> None:
        flt = automation["event"]["filter"]
        if entered not in flt.get("states", ()) or not self._run_matches(run, flt.get("run")):
            return
        state = self._state_of(automation, run["pk"])
        if self._cooling(automation, state, event["created_at"]):
            return
        state["fired_at"] = event["created_at"]
        self._fire(event, automation, run, {"run_state": entered.lower()})

    def _page_aliases(self) -> dict[tuple[Any, ...], list[str]]:
        """Aliases pointed in this page, by (entity, project, collection, version id): a link's
        aliases are separate events of the same transaction, right after the link's."""
        if not hasattr(self, "_aliases"):
            self._aliases: dict[tuple[Any, ...], list[str]] = defaultdict(list)
            for e in self.events:
                p = e.get("payload") or {}
                if e["kind"] == "artifact_alias_added" and p.get("alias"):
                    self._aliases[(p.get("entity"), p.get("project"), _collection(p), p.get("version_id"))].append(
                        p["alias"])
        return self._aliases

    def _artifact(self, event: dict[str, Any], event_type: str, run: dict[str, Any] | None) -> None:
        payload = event.get("payload") or {}
        entity, project, collection = payload.get("entity"), payload.get("project"), _collection(payload)
        aliases = [*([payload["alias"]] if payload.get("alias") else []), *(payload.get("aliases") or [])]
        if event["kind"] == "artifact_linked":
            aliases += self._page_aliases().get((entity, project, collection, payload.get("version_id")), [])
        tags = [*([payload["tag"]] if payload.get("tag") else []), *(payload.get("tags") or [])]
        doc = {"alias": aliases, "tag": tags, "artifact_name": payload.get("artifact_name") or collection,
               "artifact_type": payload.get("artifact_type") or payload.get("type")}
        for automation in self.by_project.get((str(entity), str(project)), ()):
            scope = automation["event"]["scope"]
            if (automation["event_type"] != event_type or automation["updated_at"] > event["created_at"]
                    or (scope.get("collection") and scope["collection"] != collection)):
                continue
            try:
                if matches(doc, automation["event"].get("filter")):
                    self._fire(event, automation, run, None)
            except Exception:
                log.exception("automation %s could not be evaluated on event %s", automation["name"], event["id"])

    def _fire(self, event: dict[str, Any], automation: dict[str, Any], run: dict[str, Any] | None,
              match: dict[str, Any] | None) -> None:
        values = variables(event, automation, automation["event_type"], run=run, match=match,
                           public_url=self.ev.public_url)
        action, now = automation["action"], time.time()
        body: dict[str, Any] | None = None
        if action["type"] == "GENERIC_WEBHOOK":
            body = webhook_body(action.get("payload"), values)
        elif action["type"] == "NOTIFICATION":
            if values["alert_title"] is not None:  # an alert's own words, unless the action has its own
                action = {**action, "title": action.get("title") or values["alert_title"],
                          "message": action.get("message") or values["alert_text"], "severity": values["alert_level"]}
            body = notification_body(action, values)
        detail = {"event_type": automation["event_type"], "event_kind": event["kind"],
                  "run_id": values["run_id"], "run_name": values["run_name"], "metric_name": values["metric_name"],
                  "metric_value": values["metric_value"], "threshold": values["threshold"],
                  "run_state": values["run_state"], "alias": values["alias"], "tag": values["tag"],
                  "step": (match or {}).get("step")}
        no_op = action["type"] == "NO_OP"
        self.deliveries.append({
            "id": delivery_id(), "automation_id": automation["id"], "event_id": event["id"],
            "step": (match or {}).get("step", -1) if event["kind"] == "metrics_applied" else -1,
            "run_pk": event["run_pk"], "action_type": action["type"], "integration_id": action.get("integration_id"),
            "payload": body, "detail": detail, "status": SKIPPED if no_op else PENDING, "attempts": 0,
            "next_attempt_at": None if no_op else now, "created_at": now, "finished_at": now if no_op else None})
        log.info("automation %s fired on event %s (%s)", automation["name"], event["id"], event["kind"])


def _collection(payload: dict[str, Any]) -> Any:
    """An artifact event's collection: ``name`` as the artifacts store writes it (``collection`` also read)."""
    return payload.get("collection") or payload.get("name")
