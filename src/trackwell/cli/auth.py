"""`trackwell login`, `logout`, `whoami`: the API key stored per server in the credentials file
(``trackwell._credentials``), which the SDK, ``Api`` and ``trackwell sync`` use when no key is
given explicitly or in ``TRACKWELL_API_KEY``."""

from __future__ import annotations

import os
from typing import Any

import click

from trackwell.cli._rest import connect, console, host_option


@click.command()
@host_option
@click.argument("key", required=False)
def login(host: str, key: str | None) -> None:
    """Verify an API key with the server at --host and store it for that server.

    Without KEY it is asked for (not echoed). Create keys with `trackwell keys create`; a new
    server's first start stores its admin's key already.
    """
    from trackwell import _credentials
    from trackwell.errors import AuthenticationError

    if not key:
        key = click.prompt(f"API key for {host}", hide_input=True)
    key = key.strip()
    if not key:
        raise click.ClickException("no API key given; nothing was stored")
    with connect(host, key) as client:
        try:
            me = client.request("GET", "/api/v1/auth/whoami", retry=False)
        except AuthenticationError as exc:
            why = getattr(exc, "reason", "")
            raise click.ClickException(f"the server at {client.base_url} refused this key ({why}); nothing "
                                       "was stored. Check it, or create one with `trackwell keys create` "
                                       "(or ask the server's admin)") from None
        user = me.get("user") or {}
        path = _credentials.save(client.base_url, _credentials.Credential(key, user.get("name"),
                                                                          me.get("default_entity")))
        out = console()
        out.print(f"Logged in to {client.base_url} as {user.get('name')}; credentials in {path}")
        if me.get("auth") == "none":
            out.print(f"[yellow]note[/]: the server at {client.base_url} runs with --auth none: it "
                      "also accepts requests without a key")
        if os.environ.get("TRACKWELL_API_KEY") and os.environ["TRACKWELL_API_KEY"] != key:
            out.print("[yellow]note[/]: TRACKWELL_API_KEY is set to another key and is used before "
                      "this login; unset it to use the login")


@click.command()
@host_option
def logout(host: str) -> None:
    """Forget the API key stored for the server at --host (the key itself stays valid: revoke it
    with `trackwell keys revoke PREFIX`)."""
    from trackwell import _credentials

    out = console()
    url = host.rstrip("/")
    if _credentials.remove(url):
        out.print(f"Logged out of {url} (removed from {_credentials.path()})")
    else:
        out.print(f"Not logged in to {url}: no key for it in {_credentials.path()}")
    if os.environ.get("TRACKWELL_API_KEY"):
        out.print("[yellow]note[/]: TRACKWELL_API_KEY is still set and is used for every server")


@click.command()
@host_option
def whoami(host: str) -> None:
    """Who the server at --host takes you for: user, teams and roles, key, default entity."""
    with connect(host) as client:
        me = client.request("GET", "/api/v1/auth/whoami", retry=False)
        _print_whoami(client.base_url, client.key_source, me)


def _print_whoami(url: str, source: str | None, me: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    user = me.get("user") or {}
    what = [w for w in (user.get("kind") == "service" and "service account",
                        user.get("admin") and "server admin") if w]
    who = escape(str(user.get("name")))
    full = ", ".join(escape(str(v)) for v in (user.get("display_name"), user.get("email")) if v)
    out.print(f"Logged in to {url} as [bold]{who}[/]" + (f" ({full})" if full else "")
              + (escape(f" [{', '.join(what)}]") if what else ""))
    key = me.get("key")
    if key:
        flags = [f for f in (key.get("read_only") and "read-only",
                             key.get("expires_at") and f"expires {key['expires_at']}") if f]
        name = f' "{escape(str(key["name"]))}"' if key.get("name") else ""
        out.print(f"key: {key.get('prefix')}{name}" + (f" ({', '.join(flags)})" if flags else "")
                  + (f", from {escape(source)}" if source else ""))
    if me.get("auth") == "none":
        out.print("[yellow]note[/]: this server runs with --auth none: every request acts as its admin")
    out.print(f"default entity: {escape(str(me.get('default_entity')))}")
    teams = me.get("teams") or []
    if not teams:
        out.print("teams: none")
        return
    t = Table("team", "role", title="teams", title_justify="left")
    for team in teams:
        t.add_row(escape(str(team.get("name"))), escape(str(team.get("role"))))
    out.print(t)


def sign_in_link(client: Any, page: str = "/") -> str:
    """A single-use URL (2 minutes) that signs a browser in with the client's key and opens ``page``."""
    from urllib.parse import quote

    link = client.request("POST", "/api/v1/auth/links", json={}, retry=False)
    return f"{client.base_url}{link['path']}&next={quote(page, safe='/')}"


@click.command("open")
@host_option
@click.argument("page", required=False, default="/")
@click.option("--browser/--no-browser", default=True, show_default=True, help="Also start a web browser on it.")
def open_ui(host: str, page: str, browser: bool) -> None:
    """Open the web UI signed in as you: a single-use sign-in link (valid 2 minutes) to PAGE, e.g.
    `trackwell open /lab/mnist` or a run URL the SDK printed."""
    from urllib.parse import urlsplit

    parts = urlsplit(page)
    page = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with connect(host) as client:
        url = sign_in_link(client, page)
    console().print(f"Sign-in link (works once, for 2 minutes):\n{url}")
    if browser:
        import contextlib
        import webbrowser

        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url)
