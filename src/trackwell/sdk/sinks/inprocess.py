"""``InProcessSink``: delivery straight into an ingestor in this process, no HTTP in between.

The SDK never imports server code: the caller builds the receiver (a ``trackwell.server.Ingestor``
fits) and says which of its exceptions are answers, with the HTTP status each stands for, as the
server's records route maps them. So delivery sees the same errors it would see over HTTP: an
exception with an ``applied_seq`` is a sequence gap, a refused record's ``api_fields`` (its index
and seq) travel in the error's body, and an exception not named is "could not reach".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from trackwell.schema import Ack, Batch
from trackwell.sdk.sinks.base import Sink, Target


class Receiver(Protocol):
    def receive(self, entity: str, project: str, run_id: str, batch: Batch) -> Ack: ...


class InProcessSink(Sink):
    """Hands batches to ``receiver.receive``; ``answers`` maps its exception types to statuses."""

    def __init__(self, receiver: Receiver, *, answers: Mapping[type[BaseException], int] | None = None) -> None:
        self.receiver = receiver
        self.answers = dict(answers or {})

    def send(self, target: Target, batch: Batch, *, retry: bool = True) -> Ack:
        try:
            return self.receiver.receive(*target, batch)
        except Exception as exc:
            raise self._answer(exc) from exc

    def _answer(self, exc: Exception) -> Exception:
        """``exc`` as the HTTP route would have answered it (unchanged if it is no answer)."""
        from trackwell.transport import SequenceGapError, ServerError

        status = next((s for tp, s in self.answers.items() if isinstance(exc, tp)), None)
        if status is None:
            return exc
        applied = getattr(exc, "applied_seq", None)
        if isinstance(applied, int):
            return SequenceGapError(status, str(exc), {"error": "sequence_gap", "applied_seq": applied})
        return ServerError(status, str(exc), _api_fields(exc))


def _api_fields(exc: BaseException) -> dict[str, Any]:
    """The ``api_fields`` of the first exception in the ``raise ... from`` chain that has them."""
    seen: BaseException | None = exc
    while seen is not None:
        fields = getattr(seen, "api_fields", None)
        if isinstance(fields, dict):
            return dict(fields)
        seen = seen.__cause__
    return {}
