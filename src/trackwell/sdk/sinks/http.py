"""``HttpSink``: delivery to a trackwell server over its REST API, through the transport's
``Client`` (its retry layer, msgpack bodies, typed errors)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trackwell.schema import Ack, Batch
from trackwell.sdk.sinks.base import Sink, Target

if TYPE_CHECKING:
    from pathlib import Path

    from trackwell.transport import Client


class HttpSink(Sink):
    """Posts batches to ``/api/v1/runs/{entity}/{project}/{run_id}/records``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @classmethod
    def connect(cls, base_url: str | None = None, api_key: str | None = None, **options: Any) -> HttpSink:
        """A sink over a new ``Client`` (``options`` as ``Client`` takes them: timeout, retries)."""
        from trackwell.transport import Client  # httpx loads here, not at import

        return cls(Client(base_url, api_key, **options))

    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        return self.client.send_batch(*target, batch, retry=retry)

    def upload_files(self, target: Target, run_root: Path) -> int:
        from trackwell.sdk.files import upload_pending

        return upload_pending(self.client, target[0], target[1], run_root)

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"HttpSink({self.client.base_url!r})"
