"""Batch sizing and splitting: keep batches under the server's body limit, and when the server
still refuses one (413 too large, 422 invalid), pin the refusal on single items, which the caller
sets aside (the SDK dead-letters them).

A trackwell server's 422 for one bad record names it (``{"error": "invalid_record", "index": i,
"seq": s}``): the items before it are sent, that one is set aside, and sending goes on after it,
so a bad record costs two requests. Any other refusal halves the batch recursively.

Splitting, not retrying: a refused batch is refused for what it holds, so sending it again as is
would fail the same way; the transport's retry layer never sees these statuses as retryable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from trackwell.transport._client import ServerError

T = TypeVar("T")

REFUSED = (413, 422)
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024  # half the server's default 8 MiB body limit
DEFAULT_MAX_BATCH_ITEMS = 1000
_ENVELOPE = 1024  # room for the batch's own encoding (writer id, array headers) under a limit


class BatchBudget:
    """How much one batch may hold; lowered below the limit a 413 names, never raised again."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BATCH_BYTES, max_items: int = DEFAULT_MAX_BATCH_ITEMS) -> None:
        self.max_bytes = max_bytes
        self.max_items = max_items

    def full(self, items: int, size: int, next_size: int) -> bool:
        """Would adding an item of ``next_size`` bytes overflow a batch of ``items``/``size``?"""
        return items > 0 and (items >= self.max_items or size + next_size > self.max_bytes)

    def learn(self, exc: ServerError) -> None:
        limit = server_limit(exc)
        if limit is not None:
            self.max_bytes = max(1, min(self.max_bytes, limit - _ENVELOPE))


def server_limit(exc: ServerError) -> int | None:
    """The body limit a 413 from a trackwell server names (None from other servers/proxies)."""
    value = exc.body.get("max_request_bytes") if exc.status == 413 else None
    return int(value) if isinstance(value, int) and value > 0 else None


def refused_index(exc: ServerError, count: int) -> int | None:
    """The index of the one record a trackwell server's 422 names, if it is one of ``count``."""
    body = exc.body if isinstance(exc.body, dict) else {}
    index = body.get("index") if exc.status == 422 and body.get("error") == "invalid_record" else None
    return index if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < count else None


def send_halving(items: Sequence[T], send: Callable[[Sequence[T]], None],
                 refused: Callable[[T, ServerError], None],
                 budget: BatchBudget | None = None) -> None:
    """``send(items)``; on 413/422 set aside the item a 422 names (sending the rest around it) or
    send each half the same way; a single refused item goes to ``refused(item, error)``. Other
    errors propagate (what was already sent stays sent)."""
    while items:
        try:
            send(items)
            return
        except ServerError as exc:
            if exc.status not in REFUSED:
                raise
            if budget is not None:
                budget.learn(exc)
            if len(items) == 1:
                refused(items[0], exc)
                return
            index = refused_index(exc, len(items))
            if index is None:
                mid = len(items) // 2
                send_halving(items[:mid], send, refused, budget)
                send_halving(items[mid:], send, refused, budget)
                return
            if index:
                send_halving(items[:index], send, refused, budget)
            refused(items[index], exc)
            items = items[index + 1:]  # a loop, not recursion: many bad records stay shallow
