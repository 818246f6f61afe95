"""A server with no users makes its first admin: named after the OS user that started it, with an
API key written to that user's credentials file for the server's URLs (never to a log), so a
script on the same machine "just works". Runs written before accounts existed become the admin's.

A later start on another port (``trackwell demo`` picks a free one) finds no entry for its URLs;
if the OS user's credentials file holds a key this database accepts, it is saved for them too —
the file is that user's already, so nothing is shared that was not theirs."""

from __future__ import annotations

import getpass
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from trackwell import _credentials
from trackwell.server.auth._secrets import digest, new_key, same, split_key
from trackwell.store.metadata import AccountStore


@dataclass(frozen=True)
class Bootstrapped:
    admin: str
    credentials: Path
    urls: tuple[str, ...]
    adopted: int


def admin_name() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-._")[:64]
    return name or "admin"


def bootstrap(accounts: AccountStore, urls: Iterable[str]) -> Bootstrapped | None:
    """Create the first admin and its key if there is no user yet; None when there was one."""
    if accounts.count_users() > 0:
        return None
    name = admin_name()
    if accounts.entity_kind(name) is not None:  # pragma: no cover - no users means no user entities
        name = "admin"
    try:
        accounts.create_user(name, actor=None, is_admin=True, display_name=f"{name} (first admin)")
    except ValueError:  # another server process on the same database bootstrapped first
        return None
    key, prefix, digest = new_key()
    accounts.create_key(name, prefix, digest, actor=name, name="bootstrap")
    adopted = accounts.adopt_orphans(name)
    urls = tuple(dict.fromkeys(urls))
    path = _credentials.path()
    for url in urls:
        path = _credentials.save(url, _credentials.Credential(key, name, name))
    return Bootstrapped(name, path, urls, adopted)


def announce(done: Bootstrapped) -> str:
    """What the operator reads on the console: how to log in, never the key."""
    first = done.urls[0] if done.urls else "http://127.0.0.1:8080"
    adopted = f"; the runs already here ({done.adopted} entities) are theirs" if done.adopted else ""
    return (f"created the first admin user {done.admin!r} and an API key{adopted}. The key is saved in "
            f"{done.credentials} for {', '.join(done.urls)}: scripts and the trackwell CLI of this OS user "
            f"use it as is. From elsewhere: `trackwell login --host {first} <key>` with that key, or one from "
            "`trackwell keys create`.")


def reuse_local_login(accounts: AccountStore, urls: Iterable[str]) -> str | None:
    """Save a key of this OS user's that this database accepts for ``urls`` lacking one; returns
    the user it belongs to, or None."""
    urls = [u for u in urls if _credentials.load(u) is None]
    if not urls:
        return None
    for credential in _credentials.stored().values():
        user = _valid_user(accounts, credential.api_key)
        if user is not None:
            for url in urls:
                _credentials.save(url, credential)
            return user
    return None


def _valid_user(accounts: AccountStore, key: str) -> str | None:
    prefix = split_key(key)
    row = accounts.key(prefix) if prefix else None
    if row is None or not same(row.digest, digest(key)) or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= time.time():
        return None
    account = accounts.account(row.user_id)
    return account.name if account is not None and account.active else None
