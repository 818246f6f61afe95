"""Journal records: what the client writes to disk and the server applies.

Every record carries a per-writer sequence number (``seq``, starting at 1, gap-free) and the
wall-clock time it was made (``ts``, Unix seconds). The same structs travel in upload batches;
msgpack is the wire and disk encoding because it keeps NaN/±Inf exactly and decodes fast.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Record(msgspec.Struct, tag_field="kind", kw_only=True, omit_defaults=True):
    seq: int
    ts: float


class RunStart(Record, tag="run"):
    """First record of every journal: enough for the server to create or find the run."""

    entity: str
    project: str
    run_id: str
    name: str | None = None
    group: str | None = None
    job_type: str | None = None
    tags: list[str] = []
    notes: str | None = None
    config: dict[str, Any] = {}
    host: str | None = None
    program: str | None = None
    python: str | None = None
    # Set when the client could not ask the server (offline, or unreachable at init): the server
    # resolves "must"/"allow"/"never"/"auto" when the journal arrives and, if the run already has
    # history, offsets this writer's steps and runtime to continue after it.
    resume: str | None = None
    # Who is writing (the server's lease messages name them) and how. ``shared``: one of several
    # labelled writers of this run (``primary`` None lets the server pick the first one).
    pid: int | None = None
    label: str | None = None
    shared: bool = False
    primary: bool | None = None
    # Earlier processes of this run whose journals this one found dead on its disk: {writer: last
    # seq}. The server orders their records before this writer's and their leases do not block it.
    after: dict[str, int] = {}


class History(Record, tag="history"):
    """One committed history row. ``data`` is flat: nested dicts were joined with ``/``."""

    step: int
    runtime: float
    data: dict[str, Any]


class ConfigUpdate(Record, tag="config"):
    data: dict[str, Any]


class SummaryUpdate(Record, tag="summary"):
    """Explicit summary assignments; they pin the keys against history-derived updates."""

    update: dict[str, Any] = {}
    remove: list[str] = []


class DefineMetric(Record, tag="metric"):
    name: str
    summary: str | None = None  # "min" | "max" | "mean" | "last" | "none"
    step_metric: str | None = None


class Console(Record, tag="console"):
    stream: str  # "stdout" | "stderr"
    lines: list[str]


class Exit(Record, tag="exit"):
    exit_code: int
    runtime: float


class Preempting(Record, tag="preempting"):
    pass


class Skipped(Record, tag="skipped"):
    """Stands in for a record the server refused (too large, invalid); the original is kept in
    the dead-letter file. Keeps each writer's seqs gap-free."""

    reason: str


AnyRecord = (RunStart | History | ConfigUpdate | SummaryUpdate | DefineMetric | Console | Exit | Preempting
             | Skipped)


class Batch(msgspec.Struct, kw_only=True):
    """An upload: consecutive records of one writer, in seq order."""

    writer: str
    records: list[AnyRecord]
    # Set when ``writer`` resends refused records of another writer (dead-letter retries): it
    # takes that writer's step offsets and shared-mode label, and holds no lease of its own.
    parent: str | None = None


class Ack(msgspec.Struct, kw_only=True):
    writer: str
    applied_seq: int
    state: str | None = None  # the run's state after the batch: tells a client it was killed


RESUME_MODES = ("must", "allow", "never", "auto")

_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(AnyRecord)
_batch_decoder = msgspec.msgpack.Decoder(Batch)


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def decode_record(data: bytes | memoryview) -> AnyRecord:
    return _record_decoder.decode(data)


def decode_batch(data: bytes) -> Batch:
    return _batch_decoder.decode(data)
