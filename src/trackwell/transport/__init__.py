"""HTTP transport shared by the SDK uploader, `trackwell sync` and the query API."""

from trackwell.transport._client import (
    DEFAULT_BASE_URL,
    MSGPACK,
    Client,
    SequenceGapError,
    ServerError,
    TooManyRequests,
    TransportError,
)
from trackwell.transport._split import REFUSED, BatchBudget, send_halving, server_limit

__all__ = [
    "DEFAULT_BASE_URL",
    "MSGPACK",
    "REFUSED",
    "BatchBudget",
    "Client",
    "SequenceGapError",
    "ServerError",
    "TooManyRequests",
    "TransportError",
    "send_halving",
    "server_limit",
]
