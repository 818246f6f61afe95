"""What the SDK's calls hand to the writer thread, one small type per kind (the writer dispatches
on the type through a table).

A log row is the exception: it stays a plain tuple because it is ``log()``'s hot path, and
building a tuple is cheaper than any class (measured on this machine: tuple ~68 ns, msgspec Struct
~84-95 ns, slotted dataclass ~174 ns): ``(row, step, ts)`` for a committed, non-empty row (one
call, one row: the writer hands it to the journal as it is), ``(row, step, commit, ts)`` otherwise.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

LogRow = tuple[dict[str, Any], int, float] | tuple[dict[str, Any], int, bool, float]


class Commit(msgspec.Struct):
    """Close the open history row (``commit=True`` without data, or ``finish()``)."""


class ConfigChange(msgspec.Struct):
    data: dict[str, Any]
    ts: float


class SummaryChange(msgspec.Struct):
    update: dict[str, Any]
    remove: list[str]
    ts: float


class MetricDefinition(msgspec.Struct):
    name: str
    summary: str | None
    step_metric: str | None
    ts: float
    step_sync: bool | None = None
    hidden: bool | None = None
    goal: str | None = None
    overwrite: bool | None = None


class FieldsChange(msgspec.Struct):
    """``run.name = ...`` and the like after init: journaled as a RunUpdate."""

    fields: dict[str, Any]
    ts: float


class ConsoleLines(msgspec.Struct):
    stream: str
    lines: list[str]
    ts: float


class Exited(msgspec.Struct):
    code: int
    ts: float


class PreemptingNow(msgspec.Struct):
    ts: float


class Prebuilt(msgspec.Struct):
    """A record its producer made whole (a system sample, the run's metadata): the writer only
    numbers and journals it."""

    record: Any


class Barrier(msgspec.Struct):
    """Set ``done`` once everything queued before it is applied and written."""

    done: threading.Event


Event = (LogRow | Commit | ConfigChange | SummaryChange | MetricDefinition | ConsoleLines | Exited | PreemptingNow
         | Prebuilt | Barrier | FieldsChange)
