"""What a firing sends: its template variables (W&B's, plus run and metric ones), the default
webhook body, and the Slack-compatible notification body."""

from __future__ import annotations

import datetime as dt
from typing import Any

from trackwell.automations._semantics import render

# outbox event kinds of artifacts (written by the artifacts issue) -> the automation event type
ARTIFACT_EVENTS = {"artifact_created": "CREATE_ARTIFACT", "artifact_linked": "LINK_ARTIFACT",
                   "artifact_unlinked": "UNLINK_ARTIFACT", "artifact_alias_added": "ADD_ARTIFACT_ALIAS",
                   "artifact_tag_added": "ADD_ARTIFACT_TAG", "artifact_tag_removed": "REMOVE_ARTIFACT_TAG"}
# outbox run events -> the state a RUN_STATE automation watches for
RUN_STATE_EVENTS = {"run_finished": "FINISHED", "run_failed": "FAILED", "run_crashed": "CRASHED",
                    "run_preempted": "PREEMPTED", "run_killed": "KILLED", "run_created": "RUNNING",
                    "run_resumed": "RUNNING"}
_COLORS = {"INFO": "#2eb67d", "WARN": "#ecb22e", "ERROR": "#e01e5a"}


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _version_string(payload: dict[str, Any]) -> str | None:
    """``entity/project/collection:vN`` from an artifact event as the artifacts store writes it."""
    name, version = payload.get("collection") or payload.get("name"), payload.get("version")
    return f"{payload.get('entity')}/{payload.get('project')}/{name}:{version}" if name and version else None


def variables(event: dict[str, Any], automation: dict[str, Any], event_type: str, *, run: dict[str, Any] | None,
              match: dict[str, Any] | None, public_url: str) -> dict[str, Any]:
    """Every ``${name}`` a payload may use (the secrets ``${ACCESS_TOKEN}`` are added at send time)."""
    payload = event.get("payload") or {}
    entity = run["entity"] if run else payload.get("entity", automation["entity"])
    project = run["project"] if run else payload.get("project", automation["project"])
    out: dict[str, Any] = {
        "event_type": event_type, "event_id": event["id"], "timestamp": _iso(event["created_at"]),
        "entity_name": entity, "project_name": project, "automation_name": automation["name"],
        "event_author": event.get("actor") or (run or {}).get("created_by"),
        "run_id": None, "run_name": None, "run_url": None, "run_state": None,
        "metric_name": None, "metric_value": None, "threshold": None,
        "alias": payload.get("alias"), "tag": payload.get("tag"),
        "artifact_collection_name": payload.get("collection") or payload.get("name"),
        "artifact_version": payload.get("artifact_version") or payload.get("version"),
        "artifact_version_string": payload.get("version_string") or _version_string(payload),
        "alert_title": None, "alert_text": None, "alert_level": None,
    }
    for key, value in (payload.get("metadata") or {}).items():
        out[f"artifact_metadata.{key}"] = value
    if run is not None:
        out.update(run_id=run["id"], run_name=run.get("name") or run["id"], run_state=run.get("state"),
                   run_url=f"{public_url.rstrip('/')}/{entity}/{project}/runs/{run['id']}")
    if match is not None:
        out.update(match)
    return out


def default_body(values: dict[str, Any]) -> dict[str, Any]:
    """A webhook's body when its action gives no payload template."""
    body: dict[str, Any] = {k: values[k] for k in ("event_type", "event_id", "timestamp", "automation_name",
                                                    "entity_name", "project_name", "event_author")}
    if values.get("run_id") is not None:
        body["run"] = {"id": values["run_id"], "name": values["run_name"], "state": values["run_state"],
                       "url": values["run_url"]}
    if values.get("metric_name") is not None:
        body["metric"] = {"name": values["metric_name"], "value": values["metric_value"],
                          "threshold": values["threshold"]}
    if values.get("alert_title") is not None:
        body["alert"] = {"title": values["alert_title"], "text": values["alert_text"], "level": values["alert_level"]}
    if values.get("artifact_collection_name") is not None:
        body["artifact"] = {k: values[k] for k in ("artifact_collection_name", "artifact_version",
                                                   "artifact_version_string", "alias", "tag")}
    return body


def webhook_body(template: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    return default_body(values) if template is None else render(template, values)  # type: ignore[no-any-return]


def notification_body(action: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook shape: ``text`` (what every compatible service shows) plus one
    coloured attachment."""
    severity = action.get("severity") or "INFO"
    title = render(action.get("title") or "", values) or f"{values['automation_name']}: {values['event_type']}"
    message = render(action.get("message") or "", values)
    if not message and values.get("run_id") is not None:
        message = f"run {values['run_name']} ({values['run_url']})"
        if values.get("metric_name") is not None:
            message += f": {values['metric_name']} = {values['metric_value']}"
    return {"text": f"[{severity}] {title}" + (f"\n{message}" if message else ""),
            "attachments": [{"color": _COLORS.get(severity, "#888888"), "title": title, "text": message,
                             "footer": f"trackwell automation {values['automation_name']}"}],
            "severity": severity}
