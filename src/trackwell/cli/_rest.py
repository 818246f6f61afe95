"""What the client commands that talk to a server share (`login`, `whoami`, `users`, `teams`,
`keys`): the ``--host`` option, one ``Client`` per command, errors turned into one clear line,
and rich output. Imports of httpx and rich happen inside, so ``trackwell --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from trackwell.transport import Client

DEFAULT_HOST = "http://127.0.0.1:8080"  # transport's DEFAULT_BASE_URL; spelled here: no httpx at import

F = TypeVar("F", bound=Callable[..., Any])


def host_option(func: F) -> F:
    return click.option("--host", envvar="TRACKWELL_BASE_URL", default=DEFAULT_HOST, show_default=True,
                        help="Server URL (default: $TRACKWELL_BASE_URL, else the local server).")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")(func)


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def connect(host: str, api_key: str | None = None) -> Iterator[Client]:
    """A ``Client`` for ``host`` with the login's key (or ``api_key``); a refused key, a refused
    request or an unreachable server ends the command with one line and exit code 1."""
    from trackwell.errors import Error
    from trackwell.transport import Client

    client = Client(host, api_key, max_attempts=1, timeout=30.0)
    try:
        yield client
    except Error as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None,
         params: dict[str, Any] | None = None) -> Any:
    """One JSON request; a refusal's message names what was asked and the server's reason."""
    from trackwell.errors import AuthenticationError
    from trackwell.transport import ServerError

    try:
        return client.request(method, "/api/v1" + path, json=body, params=params)
    except AuthenticationError:
        raise  # its message already says how to log in
    except ServerError as exc:
        raise click.ClickException(f"{method} {path} on {client.base_url}: {_reason(exc)} "
                                   f"(HTTP {exc.status})") from None


def _reason(exc: Any) -> str:
    detail = exc.detail
    if isinstance(detail, list):  # a validation error: field and message of each
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', ())[1:])}: {d.get('msg')}"
                         if isinstance(d, dict) else str(d) for d in detail)
    return str(detail)


def items(answer: Any, *names: str) -> list[dict[str, Any]]:
    """The list in an answer, whether bare or under one of ``names`` (``{"users": [...]}``)."""
    if isinstance(answer, dict):
        for name in names:
            if isinstance(answer.get(name), list):
                answer = answer[name]
                break
    return [a for a in answer if isinstance(a, dict)] if isinstance(answer, list) else []


def print_json(answer: Any) -> None:
    click.echo(json.dumps(answer, indent=2, sort_keys=True, default=str))


def table(title: str | None, rows: Sequence[dict[str, Any]], columns: Sequence[str],
          empty: str) -> None:
    """``rows`` as a table of ``columns`` (dict keys; "a.b" reaches into a nested dict)."""
    from rich.table import Table

    out = console()
    if not rows:
        out.print(empty)
        return
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column.split(".")[-1].replace("_", " "))
    for row in rows:
        t.add_row(*(_cell(_dig(row, column)) for column in columns))
    out.print(t)


def _dig(row: dict[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    from rich.markup import escape

    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, dict):  # a user's teams: {"team": "role"}
        return escape(", ".join(f"{k} ({v})" for k, v in value.items()))
    if isinstance(value, float) and value > 1e9:  # epoch seconds
        import datetime as dt

        return dt.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
    return escape(str(value))

