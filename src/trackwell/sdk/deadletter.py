"""Dead letters: records the server refused (over its body limit, or invalid), kept beside the
journal in ``<journal>.dead`` so nothing is lost, and retried by `trackwell sync --retry-dead-letters`.

Layout (the journal's framing, its own magic)::

    b"TWD1" | frames: u32 length | u32 crc32(payload) | payload (msgpack DeadLetter)

Each letter names the (writer, seq) that a ``Skipped`` placeholder took over, so the choice is
sticky: once a record is on disk here, that seq is only ever sent as ``Skipped`` again (a crash
between writing the letter and the server acknowledging the placeholder cannot deliver both).
Letters are retried under their own writer id (derived from the journal's), numbered by their
position in this file, with their own ``.dead.ack``: a retry is itself exactly-once. A letter
refused again is appended anew (a later position) and its old position is sent as ``Skipped``.
"""

from __future__ import annotations

import os
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from trackwell.schema import (
    AnyRecord,
    ConfigUpdate,
    Console,
    History,
    RunStart,
    SummaryUpdate,
    decode_record,
    encode,
)

MAGIC = b"TWD1"
_FRAME = struct.Struct("<II")


class DeadLetter(msgspec.Struct, kw_only=True):
    writer: str  # the writer whose seq a Skipped placeholder took
    seq: int
    reason: str
    key: str  # the record's largest key, for messages
    size: int  # the record's encoded size in bytes
    at: float  # when it was refused (Unix seconds)
    record: bytes  # the original record, msgpack, with its original seq

    def decode(self) -> AnyRecord:
        return decode_record(self.record)


def dead_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".dead")


def dead_writer(journal_writer: str) -> str:
    """The writer id dead letters of a journal are retried under: stable, unlike any uuid4."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"trackwell:dead-letters:{journal_writer}").hex


def largest_key(record: AnyRecord) -> str:
    """The key that makes a record big (a warning names it so the user knows what to shrink)."""
    data: dict[str, Any] | None = None
    if isinstance(record, (History, ConfigUpdate)):
        data = record.data
    elif isinstance(record, SummaryUpdate):
        data = record.update
    elif isinstance(record, RunStart):
        data = {f"config.{k}": v for k, v in record.config.items()}
    elif isinstance(record, Console):
        return f"console ({record.stream})"
    if not data:
        return f"<{type(record).__name__} record>"
    return max(data, key=lambda k: len(encode(data[k])))


class DeadLetters:
    """The dead-letter file of one journal; appended by one process at a time (its uploader, or
    `trackwell sync` once that process is gone)."""

    def __init__(self, journal: Path) -> None:
        self.path = dead_path(journal)
        self._seqs: dict[str, set[int]] | None = None
        self._good_end = 0  # end of the last intact frame, as of the last read

    def add(self, writer: str, record: AnyRecord, reason: str) -> DeadLetter:
        payload = encode(record)
        letter = DeadLetter(writer=writer, seq=record.seq, reason=reason, key=largest_key(record),
                            size=len(payload), at=time.time(), record=payload)
        body = encode(letter)
        self.seqs(writer)  # reads the file: finds a torn tail left by a crash
        with open(self.path, "ab") as f:
            if f.tell() > self._good_end:  # drop the torn frame, or what follows would be unreadable
                f.truncate(self._good_end)
            f.write((MAGIC if self._good_end == 0 else b"") + _FRAME.pack(len(body), zlib.crc32(body)) + body)
            self._good_end = f.tell()
            os.fsync(f.fileno())  # before the placeholder is sent: the letter is the only copy
        self.seqs(writer).add(record.seq)
        return letter

    def seqs(self, writer: str) -> set[int]:
        """Seqs of ``writer`` already replaced by a placeholder."""
        if self._seqs is None:
            self._seqs = {}
            for letter in self.letters():
                self._seqs.setdefault(letter.writer, set()).add(letter.seq)
        return self._seqs.setdefault(writer, set())

    def letters(self) -> list[DeadLetter]:
        return list(self._read())

    def _read(self) -> Iterator[DeadLetter]:
        self._good_end = 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if len(data) < 4:
            return  # torn before the magic was complete: nothing was ever recorded
        if data[:4] != MAGIC:
            raise ValueError(f"{self.path} is not a trackwell dead-letter file")
        i = self._good_end = 4
        while i + 8 <= len(data):
            length, crc = _FRAME.unpack_from(data, i)
            payload = data[i + 8:i + 8 + length]
            if len(payload) < length or zlib.crc32(payload) != crc:
                break  # a torn last frame: its placeholder was never sent, the journal still has it
            yield msgspec.msgpack.decode(payload, type=DeadLetter)
            i = self._good_end = i + 8 + length
