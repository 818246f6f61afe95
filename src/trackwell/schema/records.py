"""Journal records: what the client writes to disk and the server applies.

Every record carries a per-writer sequence number (``seq``, starting at 1, gap-free) and the
wall-clock time it was made (``ts``, Unix seconds). The same structs travel in upload batches;
msgpack is the wire and disk encoding because it keeps NaN/±Inf exactly and decodes fast.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Record(msgspec.Struct, tag_field="kind", kw_only=True, omit_defaults=True, gc=False):
    # gc=False: a record is plain data and never in a cycle, so the collector need not track the
    # one allocation every logged row makes
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


class HistoryBlock(Record, tag="rows"):
    """Consecutive History rows of one writer, by column: seqs ``seq`` .. ``seq + n - 1``
    (``last_seq``), ``ts`` the first row's. How rows are packed and unpacked is in
    ``schema/blocks.py``; the journal (format 3) and uploads carry them, so a row costs ~10
    bytes and no Python object of its own on the way to the server.

    Each row's ``_timestamp`` is its ts and ``_runtime`` its ts - ``base`` (exact: the writer
    computes it that way), so neither is stored per row.
    """

    n: int
    step: int  # the first row's step
    base: float  # every row's runtime is its ts - base
    dts: list[int] = []  # n - 1 deltas between the rows' ts as float64 bit patterns (small ints)
    dsteps: list[int] = []  # n - 1 step deltas; empty: each row is one step after the one before
    keys: list[str] = []  # the block's key names
    shapes: list[list[int]] = []  # each shape: indexes into keys, in the row's order
    shape_of: list[int] = []  # each row's shape; empty: every row has shape 0
    values: bytes = b""  # float64 little-endian: every row's values in its shape's order
    ints: list[int] = []  # positions in values that were ints (restored as ints)
    others: dict[int, Any] = {}  # positions whose value is not a number (bool, str, None, ...)

    @property
    def last_seq(self) -> int:
        return self.seq + self.n - 1


class ConfigUpdate(Record, tag="config"):
    data: dict[str, Any]


class SummaryUpdate(Record, tag="summary"):
    """Explicit summary assignments; they pin the keys against history-derived updates."""

    update: dict[str, Any] = {}
    remove: list[str] = []


class DefineMetric(Record, tag="metric"):
    """``define_metric``: how ``name`` (or a glob ``"val/*"``) is summarised and charted."""

    name: str
    # One op, or several joined with commas ("min,max"); see schema/summary.py for the shapes.
    summary: str | None = None
    step_metric: str | None = None  # the key used as this metric's x-axis
    step_sync: bool | None = None  # rows of this metric carry step_metric's last value
    hidden: bool | None = None  # left out of automatic charts
    goal: str | None = None  # "min" | "max": what "best" means
    overwrite: bool | None = None  # False: merge with an earlier definition of the name


class RunUpdate(Record, tag="update"):
    """Run fields changed after ``init`` (``run.name = ...``, ``run.tags = ...``): journaled after
    the RunStart, so the server applies them after it and they win, online or synced later."""

    name: str | None = None
    group: str | None = None
    job_type: str | None = None
    notes: str | None = None
    tags: list[str] | None = None


class Console(Record, tag="console"):
    stream: str  # "stdout" | "stderr"
    lines: list[str]


class Exit(Record, tag="exit"):
    exit_code: int
    runtime: float


class Preempting(Record, tag="preempting"):
    pass


class FileSaved(Record, tag="file"):
    """A file of the run (``run.save``, media, the run dir at finish): ``name`` (a relative POSIX
    path) now holds the bytes with SHA-256 ``digest``. The bytes travel separately (the file
    uploader): the server keeps the reference from this record and the bytes once they arrive."""

    name: str
    digest: str
    size: int


class Skipped(Record, tag="skipped"):
    """Stands in for a record the server refused (too large, invalid); the original is kept in
    the dead-letter file. Keeps each writer's seqs gap-free."""

    reason: str


class SystemSample(Record, tag="system"):
    """One sample of the machine (``sdk/system``): ``system/...`` keys on their own time axis
    (``ts`` and ``runtime``), never a history row, so it takes no ``_step``."""

    runtime: float
    data: dict[str, float]


class RunMetadata(Record, tag="meta"):
    """What the run ran on (host, OS, Python, args, git, CPU/GPU, memory), sent once after start."""

    data: dict[str, Any]


AnyRecord = (RunStart | History | HistoryBlock | ConfigUpdate | SummaryUpdate | DefineMetric | Console | Exit | Preempting
             | FileSaved | Skipped | SystemSample | RunMetadata | RunUpdate)


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
    # Seconds a client should leave between sends while the server is busy (None: its own pace).
    flush_interval: float | None = None


RESUME_MODES = ("must", "allow", "never", "auto")

_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(AnyRecord)
_batch_decoder = msgspec.msgpack.Decoder(Batch)


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def decode_record(data: bytes | memoryview) -> AnyRecord:
    return _record_decoder.decode(data)


def last_seq(record: AnyRecord) -> int:
    """The last seq a record covers (a ``HistoryBlock`` covers ``n``)."""
    return record.seq + record.n - 1 if type(record) is HistoryBlock else record.seq


def decode_batch(data: bytes) -> Batch:
    return _batch_decoder.decode(data)
