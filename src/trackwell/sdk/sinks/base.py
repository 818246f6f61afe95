"""The ``Sink`` contract: what delivery needs from the other side, and how it fails.

Failures speak the transport's vocabulary, whatever the sink: ``ServerError`` (``status``, ``body``)
for an answer refusing the request, ``SequenceGapError`` for "resend from ``applied_seq + 1``"
(delivery heals it), 413/422 for a batch refused for what it holds (delivery splits it and sets
single records aside as dead letters), 429/5xx for "later". Any other exception means the other
side could not be reached: the records stay in the journal and delivery tries again.
"""

from __future__ import annotations

import abc
from pathlib import Path
from types import TracebackType

from trackwell.schema import Ack, Batch

Target = tuple[str, str, str]  # (entity, project, run_id)


class Sink(abc.ABC):
    """Receives a run's journal records and acknowledges them (``Ack.applied_seq``: every record
    of that writer up to this seq is applied, exactly once however often it is sent)."""

    @abc.abstractmethod
    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        """Apply ``batch``; ``retry=False`` makes one attempt (the uploader's breaker is probing)."""

    def heartbeat(self, target: Target, writer: str, *, retry: bool = True) -> Ack:
        """Tell the other side the writer is alive; the answer carries the run's state."""
        return self.send(target, Batch(writer=writer, records=[]), retry=retry)

    def upload_files(self, target: Target, run_root: Path) -> int:
        """Send the run's staged files the other side lacks (``sdk/files``); returns how many were staged."""
        raise NotImplementedError(f"{type(self).__name__} takes no files; sync this run to a server")

    def close(self) -> None:
        """Release what the sink holds (connections); the default holds nothing."""
        return None

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
