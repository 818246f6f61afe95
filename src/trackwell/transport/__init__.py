"""HTTP transport shared by the SDK uploader, `trackwell sync` and the query API."""

from trackwell.transport._client import (
    DEFAULT_BASE_URL,
    MSGPACK,
    Client,
    SequenceGapError,
    ServerError,
    TransportError,
)

__all__ = ["DEFAULT_BASE_URL", "MSGPACK", "Client", "SequenceGapError", "ServerError", "TransportError"]
