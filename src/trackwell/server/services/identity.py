"""Who is asking, and what a decision needs to know about the target: API keys and browser
sessions to ``Principal``s, entities and projects to ``Target``s. All cached for a few seconds
(the ingest path asks on every batch), and dropped at once when an account changes here.

A multi-process deployment sees another process's revocation within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from trackwell.server.auth._secrets import digest, same, split_key
from trackwell.server.auth.policy import Principal, Target
from trackwell.store.metadata import Account, AccountStore

CACHE_SECONDS = 5.0
TOUCH_SECONDS = 60.0  # a key's last-used time is written at most this often
SESSION_SECONDS = 14 * 24 * 3600.0


class Identity:
    def __init__(self, accounts: AccountStore, *, auth: str = "keys") -> None:
        self._accounts = accounts
        self.auth = auth  # "keys" | "none"
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, Principal | None, str]] = {}  # key digest -> (until, who, why not)
        self._targets: dict[tuple[str, str | None], tuple[float, Target]] = {}
        self._touched: dict[str, float] = {}

    def invalidate(self) -> None:
        """An account, key, membership or project changed: decide afresh."""
        with self._lock:
            self._keys.clear()
            self._targets.clear()

    # -- authentication ---------------------------------------------------------------------

    def from_key(self, key: str) -> tuple[Principal | None, str]:
        """(the key's principal, or None and why not — never naming the key)."""
        d = digest(key)
        now = time.monotonic()
        cached = self._keys.get(d)
        if cached is not None and cached[0] > now:
            who, why = cached[1], cached[2]
        else:
            who, why = self._resolve_key(key, d)
            with self._lock:
                self._keys[d] = (now + CACHE_SECONDS, who, why)
        if who is not None and who.key_prefix is not None:
            self._touch(who.key_prefix)
        return who, why

    def _resolve_key(self, key: str, key_digest: str) -> tuple[Principal | None, str]:
        prefix = split_key(key)
        row = self._accounts.key(prefix) if prefix else None
        if row is None or not same(row.digest, key_digest):
            return None, "unknown API key"
        if row.revoked_at is not None:
            return None, f"API key {prefix} was revoked"
        if row.expires_at is not None and row.expires_at <= time.time():
            return None, f"API key {prefix} expired"
        account = self._accounts.account(row.user_id)
        if account is None or not account.active:
            return None, f"the user of API key {prefix} is deactivated"
        return principal(account, read_only=row.read_only, via="key", key_prefix=prefix), ""

    def _touch(self, prefix: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(prefix, -TOUCH_SECONDS) >= TOUCH_SECONDS:
            self._touched[prefix] = now
            self._accounts.touch_key(prefix, time.time())

    def from_session(self, token: str) -> tuple[Principal, str] | None:
        """(principal, CSRF token) of a live session cookie."""
        found = self._accounts.session(digest(token))
        if found is None or found[2] <= time.time():
            return None
        account = self._accounts.account(found[0])
        if account is None or not account.active:
            return None
        return principal(account, via="session"), found[1]

    def anonymous(self) -> Principal | None:
        """``--auth none``: every request acts as the server's first admin."""
        now = time.monotonic()
        cached = self._keys.get("")
        if cached is not None and cached[0] > now:
            return cached[1]
        account = self._accounts.first_admin()
        who = None if account is None else principal(account, via="none")
        with self._lock:
            self._keys[""] = (now + CACHE_SECONDS, who, "")
        return who

    # -- targets ----------------------------------------------------------------------------

    def target(self, entity: str | None, project: str | None = None) -> Target:
        if entity is None:
            return Target()
        now = time.monotonic()
        cached = self._targets.get((entity, project))
        if cached is not None and cached[0] > now:
            return cached[1]
        kind = self._accounts.entity_kind(entity)
        visibility = self._accounts.project_visibility(entity, project) if project is not None and kind else None
        found = Target(entity, kind, visibility)
        with self._lock:
            self._targets[(entity, project)] = (now + CACHE_SECONDS, found)
        return found


def principal(account: Account, **how: Any) -> Principal:
    return Principal(user_id=account.id, name=account.name, is_admin=account.is_admin, kind=account.kind,
                     teams=dict(account.teams), **how)
