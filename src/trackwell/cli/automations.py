"""`trackwell automations` and `trackwell integrations`: list automations, read their delivery
log, redeliver, enable or disable; list, create and delete integrations (docs/automations.md).
An automation is named ``entity/project/name`` (``project/name``: the login's entity)."""

from __future__ import annotations

from urllib.parse import quote

import click

from trackwell.cli._rest import (
    call,
    connect,
    console,
    host_option,
    items,
    json_option,
    print_json,
    table,
)


def _q(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def _entity(host: str, entity: str | None) -> str:
    if entity:
        return entity
    from trackwell import _credentials

    stored = _credentials.load(host)
    if stored is None or not stored.entity:
        raise click.UsageError("name the entity (--entity), or `trackwell login` first")
    return stored.entity


def _automation(host: str, path: str) -> tuple[str, str, str]:
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2:
        return (_entity(host, None), *parts)  # type: ignore[return-value]
    if len(parts) != 3:
        raise click.UsageError(f"{path!r}: name an automation as entity/project/name or project/name")
    return parts[0], parts[1], parts[2]


@click.group()
def automations() -> None:
    """List automations, read their delivery log, redeliver, enable or disable them."""


@automations.command("list")
@host_option
@json_option
@click.option("--entity", default=None, help="Whose automations (default: the login's entity).")
@click.option("--project", default=None, help="Only this project's.")
def automations_list(host: str, as_json: bool, entity: str | None, project: str | None) -> None:
    """The entity's automations (in the projects you may read)."""
    owner = _entity(host, entity)
    with connect(host) as client:
        answer = call(client, "GET", "/automations/" + (_q(owner, project) if project else _q(owner)))
    if as_json:
        return print_json(answer)
    table(None, items(answer, "automations"), ["id", "project", "name", "enabled", "event.type", "action.type",
                                                "updated_at"], "No automations.")


@automations.command("deliveries")
@host_option
@json_option
@click.argument("automation")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def automations_deliveries(host: str, as_json: bool, automation: str, limit: int) -> None:
    """Every delivery of AUTOMATION, newest first, with each attempt (time, status, code, error)."""
    path = _q(*_automation(host, automation))
    with connect(host) as client:
        answer = call(client, "GET", f"/automations/{path}/deliveries", params={"limit": limit})
    if as_json:
        return print_json(answer)
    rows = []
    for d in items(answer, "deliveries"):
        for a in d["attempt_log"] or [{}]:
            rows.append({"id": d["id"], "status": d["status"], "run": (d["detail"] or {}).get("run_id"),
                         "attempt": a.get("attempt"), "at": a.get("at", d["created_at"]),
                         "code": a.get("status_code"), "error": a.get("error")})
    table(None, rows, ["id", "status", "run", "attempt", "at", "code", "error"], "No deliveries yet.")


@automations.command("redeliver")
@host_option
@click.argument("automation")
@click.argument("delivery_id")
def automations_redeliver(host: str, automation: str, delivery_id: str) -> None:
    """Send DELIVERY_ID of AUTOMATION again now (same webhook-id), with a fresh round of retries."""
    with connect(host) as client:
        call(client, "POST", f"/automations/{_q(*_automation(host, automation))}/deliveries/"
                             f"{quote(delivery_id, safe='')}/redeliver")
    console().print(f"Redelivering {delivery_id}")


def _set_enabled(host: str, automation: str, enabled: bool) -> None:
    with connect(host) as client:
        call(client, "PATCH", f"/automations/{_q(*_automation(host, automation))}", {"enabled": enabled})
    console().print(f"{'Enabled' if enabled else 'Disabled'} {automation}")


@automations.command("enable")
@host_option
@click.argument("automation")
def automations_enable(host: str, automation: str) -> None:
    """Enable AUTOMATION: it fires on events from now on."""
    _set_enabled(host, automation, True)


@automations.command("disable")
@host_option
@click.argument("automation")
def automations_disable(host: str, automation: str) -> None:
    """Disable AUTOMATION: kept, but it never fires."""
    _set_enabled(host, automation, False)


@automations.command("delete")
@host_option
@click.argument("automation")
def automations_delete(host: str, automation: str) -> None:
    """Delete AUTOMATION and its delivery log."""
    with connect(host) as client:
        call(client, "DELETE", f"/automations/{_q(*_automation(host, automation))}")
    console().print(f"Deleted {automation}")


@click.group()
def integrations() -> None:
    """Where automations send: Slack-compatible and generic (signed) webhooks."""


@integrations.command("list")
@host_option
@json_option
@click.option("--entity", default=None, help="Whose integrations (default: the login's entity).")
def integrations_list(host: str, as_json: bool, entity: str | None) -> None:
    """The entity's integrations (secrets are never shown)."""
    with connect(host) as client:
        answer = call(client, "GET", f"/integrations/{_q(_entity(host, entity))}")
    if as_json:
        return print_json(answer)
    table(None, items(answer, "integrations"), ["id", "name", "kind", "url", "created_by", "created_at"],
          "No integrations.")


@integrations.command("create")
@host_option
@json_option
@click.argument("kind", type=click.Choice(["webhook", "slack"]))
@click.argument("url")
@click.option("--name", default=None, help="Default: made from the URL's host.")
@click.option("--entity", default=None, help="Whose (default: the login's entity).")
@click.option("--secret", default=None, help="Signing secret (whsec_...); default: one is made and shown once.")
@click.option("--access-token", default=None, help="Sent as Authorization: Bearer (and ${ACCESS_TOKEN}).")
def integrations_create(host: str, as_json: bool, kind: str, url: str, name: str | None, entity: str | None,
                        secret: str | None, access_token: str | None) -> None:
    """Create a KIND integration that posts to URL."""
    body = {"kind": kind, "name": name, "secret": secret, "access_token": access_token,
            ("webhook_url" if kind == "slack" else "url"): url}
    with connect(host) as client:
        answer = call(client, "POST", f"/integrations/{_q(_entity(host, entity))}",
                      {k: v for k, v in body.items() if v is not None})
    if as_json:
        return print_json(answer)
    console().print(f"Integration {answer['id']} ({answer['name']}) posts to {answer['url']}")
    if answer.get("secret"):
        console().print(f"Signing secret (shown once; receivers verify webhook-signature with it): {answer['secret']}")


@integrations.command("delete")
@host_option
@click.argument("integration_id", type=int)
@click.option("--entity", default=None, help="Whose (default: the login's entity).")
def integrations_delete(host: str, integration_id: int, entity: str | None) -> None:
    """Delete an integration no automation uses."""
    with connect(host) as client:
        call(client, "DELETE", f"/integrations/{_q(_entity(host, entity))}/{integration_id}")
    console().print(f"Deleted integration {integration_id}")
