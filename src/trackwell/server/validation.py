"""What the server accepts: every value is checked at the edge, so the stores never refuse what
was acknowledged and everything stored can be read back.

A record that breaks a rule is refused alone: ``InvalidRecord`` names its index in the batch,
its seq and the problem, and the API answers 422 with ``{"error": "invalid_record", "index",
"seq"}`` so the client dead-letters that one record and sends the rest (``transport._split``).

The rules (the sizes are the columns of ``store/metadata/_tables.py``):

- strings and keys anywhere: no NUL character (PostgreSQL text cannot hold it) and no lone
  surrogate (not UTF-8: no database, msgpack or JSON encoder takes it);
- entity, project, run id at most 128 characters; name, group, job type, host 256; metric keys
  (history, summary, ``define_metric``) 512; writer id 64; writer label 128; console stream 16;
- values are JSON-shaped (None, bool, int, float, str, list, dict with str keys), nested at most
  64 deep, ints in [-2**63, 2**64) (what msgpack carries); NaN and ±Inf are kept;
- seq in [1, 2**63); ``ts`` and runtimes finite; history steps in [0, 2**62] (room for resume
  offsets and bucket arithmetic in int64); exit code and pid fit a 32-bit integer column;
- a system sample: at most 1,000 keys, each ``system/...``, with finite numbers; run metadata: a
  JSON-shaped object;
- at most ``max_keys_per_batch`` distinct history keys in one batch (default 10,000; `trackwell
  server --max-keys-per-batch`): past it the answer is 422 ``too_many_keys``, without an index,
  so a client splits the batch; a single record over the limit is refused as invalid.

Non-finite floats in JSON columns are stored as the tag ``{"$float": "NaN" | "Infinity" |
"-Infinity"}`` (PostgreSQL's JSONB has no NaN). Client data can never collide with the tag: a
client dict whose only key is ``$float``, ``$$float``, ... is stored with one more ``$``
(``{"$float": "abc"}`` is stored as ``{"$$float": "abc"}``) and given back as sent; on read only
``{"$float": <one of the three names>}`` is a float, one ``$`` is taken off the escaped forms, and
anything else is returned as stored (``store/metadata/_engine.py``: ``dumps``/``loads``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trackwell.schema import (
    RESUME_MODES,
    AnyRecord,
    Batch,
    ConfigUpdate,
    Console,
    DefineMetric,
    Exit,
    FileSaved,
    History,
    HistoryBlock,
    RunMetadata,
    RunStart,
    RunUpdate,
    Skipped,
    SummaryUpdate,
    SystemSample,
    names,
)
from trackwell.schema.blocks import DERIVED_KEYS
from trackwell.schema.files import SHA256 as _SHA256
from trackwell.schema.files import file_name_problem
from trackwell.schema.summary import summary_ops
from trackwell.server._errors import clip
from trackwell.server.columns import BlockError, columns

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
VALUE_INT_END = 2**64  # values: msgpack carries ints in [-2**63, 2**64)
MAX_STEP = 2**62
MAX_DEPTH = 64
MAX_KEY_CHARS = 512
MAX_NAME_CHARS = 256
MAX_PATH_CHARS = 128
MAX_WRITER_CHARS = 64
MAX_LABEL_CHARS = 128
MAX_AFTER = 1000  # earlier writers a resumed process names (journals found on its disk)
MAX_STREAM_CHARS = 16
MAX_PYTHON_CHARS = 64
DEFAULT_MAX_KEYS_PER_BATCH = 10_000
MAX_SYSTEM_KEYS = 1000  # per system sample (a node with 8 GPUs and 128 cores per-core has ~230)
_FLOAT = {float}


@dataclass(frozen=True)
class Limits:
    max_keys_per_batch: int = DEFAULT_MAX_KEYS_PER_BATCH


_limits = Limits()


def configure(limits: Limits) -> None:
    """The server's limits, set once when the app is created (one server per process)."""
    global _limits
    _limits = limits


def limits() -> Limits:
    return _limits


class InvalidValue(ValueError):
    """A value the server will not store; the message says where it is and why."""


class InvalidRecord(InvalidValue):
    """One record of a batch breaks a rule: the client should set that record aside."""

    def __init__(self, index: int, record: AnyRecord, problem: str) -> None:
        kind = type(record).__struct_config__.tag
        super().__init__(f"records[{index}] (seq {record.seq}, {kind}): {problem}")
        self.index = index
        self.seq = record.seq
        self.api_fields = {"error": "invalid_record", "index": index, "seq": record.seq}


class TooManyKeys(InvalidValue):
    """The batch as a whole names too many metric keys: the client should split it."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"the batch logs {count} distinct history keys, over this server's limit of {limit} "
                         "per batch; send smaller batches, or raise `trackwell server --max-keys-per-batch`")
        self.api_fields = {"error": "too_many_keys", "keys": count, "max_keys_per_batch": limit}


# -- scalars -----------------------------------------------------------------------------

def check_text(text: Any, where: str, max_chars: int | None = None) -> None:
    if type(text) is not str:
        raise InvalidValue(f"{where} must be a string, got {type(text).__name__}")
    if max_chars is not None and len(text) > max_chars:
        raise InvalidValue(f"{where} {clip(text)} is longer than {max_chars} characters; shorten it")
    if "\x00" in text:
        raise InvalidValue(f"{where} {clip(text)} contains a NUL character, which cannot be stored; remove it")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidValue(f"{where} {clip(text)} contains a lone surrogate ({text[exc.start]!r} at "
                               f"position {exc.start}), which is not valid Unicode text; fix its encoding") from None


def check_int(value: Any, where: str, lo: int, hi: int) -> None:
    if type(value) is not int:
        raise InvalidValue(f"{where} must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise InvalidValue(f"{where} is {clip(value)}, outside [{lo}, {hi}]")


def check_finite(value: Any, where: str) -> None:
    if type(value) not in (float, int) or not math.isfinite(value):
        raise InvalidValue(f"{where} must be a finite number, got {clip(value)}")


def check_key(key: Any, where: str) -> None:
    check_text(key, where, MAX_KEY_CHARS)


# -- values ------------------------------------------------------------------------------

def check_value(value: Any, where: str, depth: int = 0) -> None:
    """A JSON-shaped value (config, summary, history): see the module docstring."""
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return
    if kind is int:
        if not INT64_MIN <= value < VALUE_INT_END:
            raise InvalidValue(f"{where} is the integer {clip(value)}, outside [-2**63, 2**64); "
                               "log it as a float or a string")
        return
    if kind is str:
        check_text(value, where)
        return
    if kind is dict or kind is list:
        if depth >= MAX_DEPTH:
            raise InvalidValue(f"{where} is nested more than {MAX_DEPTH} levels deep; flatten it")
        if kind is dict:
            for k, v in value.items():
                check_text(k, f"{where} key")
                check_value(v, f"{where}.{k}" if len(k) <= 40 else f"{where}.{k[:40]}...", depth + 1)
        else:
            for i, v in enumerate(value):
                check_value(v, f"{where}[{i}]", depth + 1)
        return
    raise InvalidValue(f"{where} is a {kind.__name__}; values are null, booleans, numbers, strings, lists "
                       "and objects")


def check_mapping(data: Any, where: str) -> None:
    if type(data) is not dict:
        raise InvalidValue(f"{where} must be an object, got {type(data).__name__}")
    check_value(data, where)


def check_tags(tags: Any, where: str = "tags") -> None:
    if type(tags) is not list:
        raise InvalidValue(f"{where} must be a list of strings, got {type(tags).__name__}")
    for i, tag in enumerate(tags):
        check_text(tag, f"{where}[{i}]")


def check_run_path(entity: str, project: str, run_id: str) -> None:
    """The SDK's rule (``schema.names``): a run the SDK refuses to start is refused here too."""
    for name, value in (("entity", entity), ("project", project), ("run id", run_id)):
        check_text(value, name, MAX_PATH_CHARS)
    problem = names.run_path_problem(entity, project, run_id)
    if problem is not None:
        raise InvalidValue(problem)


_NAME_FIELDS = ("name", "group", "job_type")


def check_run_fields(fields: dict[str, Any]) -> None:
    """The settable fields of a run (``PUT`` body, fork body, ``RunStart``)."""
    for name in _NAME_FIELDS:
        if fields.get(name) is not None:
            check_text(fields[name], name, MAX_NAME_CHARS)
    if fields.get("notes") is not None:
        check_text(fields["notes"], "notes")
    if fields.get("tags") is not None:
        check_tags(fields["tags"])
    if fields.get("config") is not None:
        check_mapping(fields["config"], "config")


# -- records -----------------------------------------------------------------------------

def _check_start(rec: RunStart, path: tuple[str, str, str]) -> None:
    if (rec.entity, rec.project, rec.run_id) != path:
        raise InvalidValue(f"starts run {clip('/'.join((rec.entity, rec.project, rec.run_id)))} but the batch was "
                           f"posted to {clip('/'.join(path))}")
    check_run_fields({"name": rec.name, "group": rec.group, "job_type": rec.job_type, "notes": rec.notes,
                      "tags": rec.tags, "config": rec.config})
    if rec.host is not None:
        check_text(rec.host, "host", MAX_NAME_CHARS)
    if rec.program is not None:
        check_text(rec.program, "program")
    if rec.python is not None:
        check_text(rec.python, "python", MAX_PYTHON_CHARS)
    if rec.resume is not None and rec.resume not in RESUME_MODES:
        raise InvalidValue(f"has resume={clip(rec.resume)}; use one of {', '.join(RESUME_MODES)}")
    if rec.pid is not None:
        check_int(rec.pid, "pid", 0, INT32_MAX)
    if rec.label is not None:
        check_text(rec.label, "label", MAX_LABEL_CHARS)
    if len(rec.after) > MAX_AFTER:
        raise InvalidValue(f"after names {len(rec.after)} earlier writers; at most {MAX_AFTER}")
    for writer, seq in rec.after.items():
        check_text(writer, "after key (a writer id)", MAX_WRITER_CHARS)
        check_int(seq, f"after[{writer!r}]", 0, INT64_MAX)


def check_writer_claim(writer: str, host: str | None, pid: int | None, label: str | None,
                       after: dict[str, int], path: tuple[str, str, str]) -> None:
    """``POST .../writers``: what ``run_writers`` can hold (as a RunStart's writer fields)."""
    check_run_path(*path)
    check_text(writer, "writer", MAX_WRITER_CHARS)
    if not writer:
        raise InvalidValue("writer is empty; send the journal's writer id")
    if host is not None:
        check_text(host, "host", MAX_NAME_CHARS)
    if pid is not None:
        check_int(pid, "pid", 0, INT32_MAX)
    if label is not None:
        check_text(label, "label", MAX_LABEL_CHARS)
    if len(after) > MAX_AFTER:
        raise InvalidValue(f"after names {len(after)} earlier writers; at most {MAX_AFTER}")
    for earlier, seq in after.items():
        check_text(earlier, "after key (a writer id)", MAX_WRITER_CHARS)
        check_int(seq, f"after[{clip(earlier)}]", 0, INT64_MAX)


def _check_history(rec: History, seen_keys: set[str]) -> None:
    check_int(rec.step, "step", 0, MAX_STEP)
    check_finite(rec.runtime, "runtime")
    data = rec.data
    new_keys = data.keys() - seen_keys
    for key in new_keys:
        check_key(key, "history key")
    seen_keys |= new_keys
    if not set(map(type, data.values())) <= _FLOAT:  # the common case costs one pass in C
        for key, value in data.items():
            check_value(value, f"history value {key!r}" if len(key) <= 40 else "history value", 1)


def _check_block(rec: HistoryBlock, seen_keys: set[str]) -> None:
    """A block's columns fit together and every row would pass as a History record."""
    try:
        cols = columns(rec)
    except BlockError as exc:
        raise InvalidValue(str(exc)) from None
    check_int(rec.step, "step", 0, MAX_STEP)
    if rec.n > 1 and not (0 <= int(cols.steps.min()) and int(cols.steps.max()) <= MAX_STEP):
        raise InvalidValue(f"a row's step is outside 0..2**62 (steps {int(cols.steps.min())}..{int(cols.steps.max())})")
    check_finite(rec.base, "base")
    if not (np.isfinite(cols.ts).all() and np.isfinite(cols.runtime).all()):
        raise InvalidValue("a row's ts or runtime (ts - base) is not finite; ts and runtime must be finite")
    if len(set(rec.keys)) != len(rec.keys):
        raise InvalidValue("keys names a key twice; each key once per block")
    for shape in rec.shapes:
        if len(set(shape)) != len(shape):
            raise InvalidValue("a shape names a key twice; a row has each key once")
    new_keys = set(rec.keys) - seen_keys
    for key in new_keys:
        check_key(key, "history key")
        if key in DERIVED_KEYS:
            raise InvalidValue(f"a block's keys include {key}, which every row has already (ts - base, ts)")
    seen_keys |= new_keys
    for i, value in rec.others.items():
        check_value(value, f"history value at position {i}", 1)


def _check_metric(rec: DefineMetric) -> None:
    try:
        summary_ops(rec.summary, rec.goal)
    except ValueError as exc:
        raise InvalidValue(f"defines metric {clip(rec.name)}: {exc}") from None
    for name in ("step_sync", "hidden", "overwrite"):
        if getattr(rec, name) not in (None, True, False):
            raise InvalidValue(f"defines metric {clip(rec.name)} with {name}={clip(getattr(rec, name))}; use true or false")


def _check_system(rec: SystemSample) -> None:
    """``system/...`` keys with finite numbers (they are charted, never summarized)."""
    check_finite(rec.runtime, "runtime")
    if len(rec.data) > MAX_SYSTEM_KEYS:
        raise InvalidValue(f"a system sample has {len(rec.data)} keys, over the limit of {MAX_SYSTEM_KEYS}; "
                           "sample fewer values (per-core CPU is optional)")
    for key, value in rec.data.items():
        check_key(key, "system key")
        if not key.startswith("system/"):
            raise InvalidValue(f"system key {clip(key)} does not start with 'system/'; system samples hold only "
                               "system/... metrics (log other values with run.log)")
        check_finite(value, f"system value {clip(key, 60)}")


def _check_record(rec: AnyRecord, path: tuple[str, str, str], seen_keys: set[str]) -> None:
    check_int(rec.seq, "seq", 1, INT64_MAX)
    check_finite(rec.ts, "ts")
    kind = type(rec)
    if kind is History:
        _check_history(rec, seen_keys)  # type: ignore[arg-type]
    elif kind is HistoryBlock:
        _check_block(rec, seen_keys)  # type: ignore[arg-type]
    elif kind is RunStart:
        _check_start(rec, path)  # type: ignore[arg-type]
    elif kind is ConfigUpdate:
        check_mapping(rec.data, "config")  # type: ignore[union-attr]
    elif kind is SummaryUpdate:
        for key, value in rec.update.items():  # type: ignore[union-attr]
            check_key(key, "summary key")
            check_value(value, f"summary value {clip(key, 40)}", 1)
        for key in rec.remove:  # type: ignore[union-attr]
            check_key(key, "summary key to remove")
    elif kind is DefineMetric:
        check_key(rec.name, "metric name")  # type: ignore[union-attr]
        if rec.step_metric is not None:  # type: ignore[union-attr]
            check_key(rec.step_metric, "step_metric")  # type: ignore[union-attr]
        _check_metric(rec)  # type: ignore[arg-type]
    elif kind is RunUpdate:
        check_run_fields({f: getattr(rec, f) for f in ("name", "group", "job_type", "notes", "tags")})
    elif kind is Console:
        check_text(rec.stream, "console stream", MAX_STREAM_CHARS)  # type: ignore[union-attr]
        for i, line in enumerate(rec.lines):  # type: ignore[union-attr]
            check_text(line, f"console line {i}")
    elif kind is Exit:
        check_int(rec.exit_code, "exit_code", INT32_MIN, INT32_MAX)  # type: ignore[union-attr]
        check_finite(rec.runtime, "runtime")  # type: ignore[union-attr]
    elif kind is Skipped:
        check_text(rec.reason, "reason")  # type: ignore[union-attr]
    elif kind is FileSaved:
        check_file_name(rec.name)  # type: ignore[union-attr,arg-type]
        if not isinstance(rec.digest, str) or not _SHA256.fullmatch(rec.digest):  # type: ignore[union-attr]
            raise InvalidValue(f"file {clip(rec.name)} has digest {clip(rec.digest)}; a file's digest is its "  # type: ignore[union-attr]
                               "SHA-256 as 64 lowercase hex characters")
        check_int(rec.size, "file size", 0, INT64_MAX)  # type: ignore[union-attr]
    elif kind is SystemSample:
        _check_system(rec)  # type: ignore[arg-type]
    elif kind is RunMetadata:
        check_mapping(rec.data, "metadata")  # type: ignore[union-attr]


def check_file_name(name: str) -> str:
    problem = file_name_problem(name)
    if problem is not None:
        raise InvalidValue(problem)
    return name


def check_records(records: list[AnyRecord], path: tuple[str, str, str], max_keys: int | None = None) -> None:
    """Raise ``InvalidRecord`` for the first record that breaks a rule, ``TooManyKeys`` when the
    records together log more than ``max_keys`` distinct history keys."""
    limit = _limits.max_keys_per_batch if max_keys is None else max_keys
    seen_keys: set[str] = set()
    finite = math.isfinite
    for index, rec in enumerate(records):
        # The common row (known keys, float values, sane numbers) is checked inline: this runs
        # for every row of every batch (seqs are checked once per batch: they are consecutive).
        if type(rec) is History and 0 <= rec.step <= MAX_STEP and finite(rec.ts) and finite(rec.runtime) \
                and rec.data.keys() <= seen_keys and set(map(type, rec.data.values())) <= _FLOAT:
            continue
        try:
            _check_record(rec, path, seen_keys)
        except InvalidValue as exc:
            raise InvalidRecord(index, rec, str(exc)) from None
        if len(seen_keys) > limit:
            width = len(rec.data) if type(rec) is History else \
                max(map(len, rec.shapes), default=0) if type(rec) is HistoryBlock else 0  # type: ignore[union-attr]
            if width > limit:  # splitting the batch cannot help this one
                raise InvalidRecord(index, rec, f"logs {width} keys in one row, over this server's limit of "
                                                f"{limit} per batch; log fewer keys per row")
            raise TooManyKeys(len(seen_keys), limit)


def check_batch(batch: Batch, entity: str, project: str, run_id: str) -> None:
    """Everything about a batch the stores would refuse or could not read back."""
    check_run_path(entity, project, run_id)
    if not batch.writer:
        raise InvalidValue("batch.writer is empty; every batch names the journal writer that made it")
    check_text(batch.writer, "batch.writer", MAX_WRITER_CHARS)
    records = batch.records
    if not records:
        return
    first = records[0].seq
    if first < 1:
        raise InvalidValue(f"records[0].seq is {clip(first)}; sequence numbers start at 1")
    expected = first
    for i, rec in enumerate(records):
        if rec.seq != expected:
            raise InvalidValue(f"records must be consecutive seqs of writer {clip(batch.writer)}: records[{i}].seq "
                               f"is {clip(rec.seq)}, expected {expected}; split the upload at the gap")
        if type(rec) is HistoryBlock and rec.n < 1:
            raise InvalidRecord(i, rec, f"n is {clip(rec.n)}; a block holds at least one row")
        expected += rec.n if type(rec) is HistoryBlock else 1
    if expected - 1 > INT64_MAX:
        raise InvalidRecord(len(records) - 1, records[-1], f"seq is {clip(expected - 1)}, over 2**63 - 1")
    check_records(records, (entity, project, run_id))
