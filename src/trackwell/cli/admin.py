"""`trackwell users`, `teams`, `keys`: thin clients of the server's REST endpoints
(docs/auth.md), acting with the logged-in key (`trackwell login`, or ``TRACKWELL_API_KEY``).
The server decides who may do what; a refusal is printed as the server gave it."""

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

ROLES = click.Choice(["admin", "member", "viewer"])


def _q(name: str) -> str:
    return quote(name, safe="")


# -- users ---------------------------------------------------------------------------------

@click.group()
def users() -> None:
    """Create, list and deactivate users (server admins only)."""


@users.command("create")
@host_option
@json_option
@click.argument("name")
@click.option("--email", default=None)
@click.option("--display-name", default=None)
@click.option("--admin", is_flag=True, help="Make the user a server admin.")
@click.option("--password", is_flag=True, help="Ask for a password (for the web UI's login).")
def users_create(host: str, as_json: bool, name: str, email: str | None, display_name: str | None,
                 admin: bool, password: bool) -> None:
    """Create the user NAME (also their personal entity). Give them a key with
    `trackwell keys create --user NAME`."""
    body = {"name": name, "email": email, "display_name": display_name, "admin": admin}
    if password:
        body["password"] = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with connect(host) as client:
        answer = call(client, "POST", "/users", {k: v for k, v in body.items() if v is not None})
    if as_json:
        return print_json(answer)
    console().print(f"Created user {name}" + (" (server admin)" if admin else "")
                    + f"; give them a key: trackwell keys create --user {name}")


@users.command("list")
@host_option
@json_option
def users_list(host: str, as_json: bool) -> None:
    """Every user of the server."""
    with connect(host) as client:
        answer = call(client, "GET", "/users")
    if as_json:
        return print_json(answer)
    table(None, items(answer, "users"),
          ["name", "display_name", "email", "kind", "admin", "active", "teams"], "No users.")


@users.command("deactivate")
@host_option
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def users_deactivate(host: str, name: str, yes: bool) -> None:
    """Deactivate the user NAME: their keys and sessions stop working at once."""
    if not yes:
        click.confirm(f"Deactivate {name}? Their keys and sessions stop working", abort=True)
    with connect(host) as client:
        call(client, "POST", f"/users/{_q(name)}/deactivate")
    console().print(f"Deactivated {name}: their keys and sessions no longer work")


@users.command("activate")
@host_option
@click.argument("name")
def users_activate(host: str, name: str) -> None:
    """Activate the user NAME again (after `users deactivate`)."""
    with connect(host) as client:
        call(client, "POST", f"/users/{_q(name)}/activate")
    console().print(f"Activated {name}")


# -- teams ---------------------------------------------------------------------------------

@click.group()
def teams() -> None:
    """Teams (entities runs are logged to), their members and roles, service accounts."""


@teams.command("create")
@host_option
@json_option
@click.argument("name")
def teams_create(host: str, as_json: bool, name: str) -> None:
    """Create the team NAME; you become its admin."""
    with connect(host) as client:
        answer = call(client, "POST", "/teams", {"name": name})
    if as_json:
        return print_json(answer)
    console().print(f"Created team {name}; you are its admin. Add members: "
                    f"trackwell teams add-member {name} USER --role member")


@teams.command("list")
@host_option
@json_option
def teams_list(host: str, as_json: bool) -> None:
    """Your teams (a server admin: all of them)."""
    with connect(host) as client:
        answer = call(client, "GET", "/teams")
    if as_json:
        return print_json(answer)
    table(None, items(answer, "teams"), ["name", "role"], "No teams.")


@teams.command("show")
@host_option
@json_option
@click.argument("team")
def teams_show(host: str, as_json: bool, team: str) -> None:
    """The members of TEAM and their roles."""
    with connect(host) as client:
        answer = call(client, "GET", f"/teams/{_q(team)}")
    if as_json:
        return print_json(answer)
    table(f"team {team}", items(answer, "members"), ["user", "role", "kind", "active"],
          f"Team {team} has no members.")


@teams.command("add-member")
@host_option
@click.argument("team")
@click.argument("user")
@click.option("--role", type=ROLES, default="member", show_default=True)
def teams_add_member(host: str, team: str, user: str, role: str) -> None:
    """Add USER to TEAM (or change their role)."""
    with connect(host) as client:
        call(client, "PUT", f"/teams/{_q(team)}/members/{_q(user)}", {"role": role})
    console().print(f"{user} is a {role} of team {team}")


@teams.command("set-role")
@host_option
@click.argument("team")
@click.argument("user")
@click.argument("role", type=ROLES)
def teams_set_role(host: str, team: str, user: str, role: str) -> None:
    """Give USER the ROLE (admin, member, viewer) in TEAM."""
    with connect(host) as client:
        call(client, "PUT", f"/teams/{_q(team)}/members/{_q(user)}", {"role": role})
    console().print(f"{user} is a {role} of team {team}")


@teams.command("remove-member")
@host_option
@click.argument("team")
@click.argument("user")
def teams_remove_member(host: str, team: str, user: str) -> None:
    """Remove USER from TEAM."""
    with connect(host) as client:
        call(client, "DELETE", f"/teams/{_q(team)}/members/{_q(user)}")
    console().print(f"{user} is no longer a member of team {team}")


@teams.command("add-service-account")
@host_option
@json_option
@click.argument("team")
@click.argument("name")
def teams_add_service_account(host: str, as_json: bool, team: str, name: str) -> None:
    """Create the service account NAME of TEAM (for CI): it has keys, no password."""
    with connect(host) as client:
        answer = call(client, "POST", f"/teams/{_q(team)}/service-accounts", {"name": name})
    if as_json:
        return print_json(answer)
    console().print(f"Created service account {name} of team {team}; give it a key: "
                    f"trackwell keys create --user {name}")


# -- keys ----------------------------------------------------------------------------------

@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke."""


@keys.command("create")
@host_option
@json_option
@click.option("--name", default=None, help="What the key is for (shown in `keys list`).")
@click.option("--read-only", is_flag=True, help="The key may read, never write.")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None)
@click.option("--user", default=None,
              help="Whose key: a service account of a team you administer (server admin: anyone).")
def keys_create(host: str, as_json: bool, name: str | None, read_only: bool,
                expires_in_days: int | None, user: str | None) -> None:
    """Create an API key. It is printed once: the server keeps only its hash."""
    body = {"name": name, "read_only": read_only or None, "expires_in_days": expires_in_days, "user": user}
    with connect(host) as client:
        answer = call(client, "POST", "/keys", {k: v for k, v in body.items() if v is not None})
    if as_json:
        return print_json(answer)
    out = console()
    owner = answer.get("user") or user or "you"
    out.print(f"API key for {owner}" + (" (read-only)" if read_only else "") + ":")
    out.print(str(answer.get("key")), markup=False)
    out.print("[yellow]Store it now: it is not shown again.[/] Use it with "
              f"`trackwell login --host {client.base_url}` or TRACKWELL_API_KEY.")


@keys.command("list")
@host_option
@json_option
@click.option("--user", default=None, help="Whose keys (a service account you administer; admin: anyone).")
def keys_list(host: str, as_json: bool, user: str | None) -> None:
    """Your keys (by prefix: the secret is never shown again)."""
    with connect(host) as client:
        answer = call(client, "GET", "/keys", params={"user": user} if user else None)
    if as_json:
        return print_json(answer)
    table(None, items(answer, "keys"),
          ["prefix", "name", "read_only", "created_at", "last_used_at", "expires_at", "revoked"],
          "No keys.")


@keys.command("revoke")
@host_option
@click.argument("prefix")
def keys_revoke(host: str, prefix: str) -> None:
    """Revoke the key whose prefix is PREFIX (as `keys list` shows it; tw_PREFIX_... works too)."""
    if prefix.startswith("tw_") and len(prefix) > 12:  # a whole key pasted: send only its prefix
        prefix = prefix[3:11]
    with connect(host) as client:
        call(client, "DELETE", f"/keys/{_q(prefix)}")
    console().print(f"Revoked key {prefix}: requests with it are now refused")
