"""Dead letters: records the server refused (over its body limit, or invalid), kept beside the
journal in ``<journal>.dead`` so nothing is lost, and retried by `trackwell sync --retry-dead-letters`.

Layout, version 2 (the journal's frames, ``frames.py``)::

    b"TWD2" | frame(msgpack DeadLetter) | frame(msgpack DeadLetter) | ...

Each letter names the (writer, seq) that a ``Skipped`` placeholder took over, so the choice is
sticky: once a record is on disk here, that seq is only ever sent as ``Skipped`` again (a crash
between writing the letter and the server acknowledging the placeholder cannot deliver both).
Letters are retried under their own writer id (derived from the journal's), letter ``n`` as seq
``n``, with their own ``.dead.ack``: a retry is itself exactly-once. ``n`` is stored in the letter
(one past the highest ``n`` in the file and the ``.dead.ack``), so a damaged letter never shifts
the numbers of the others. A letter refused again is appended anew (a new ``n``) and its old
``n`` is sent as ``Skipped``.

Adding a letter never truncates: each letter is the only copy of its record. It is appended
after whatever the file ends with (a frame torn by a crash is skipped by readers, as is any
damaged letter) and fsynced before its placeholder is sent. Version-1 files (``b"TWD1"``, legacy
frames, numbered by position) are still read; adding to one rewrites it in version 2 with the
same numbers and keeps the old bytes in ``<file>.v1``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
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
from trackwell.sdk.frames import FRAMES, LEGACY, encode_frame, scan
from trackwell.sdk.journal import read_ack

MAGIC = b"TWD2"
MAGIC_V1 = b"TWD1"


class DeadLetter(msgspec.Struct, kw_only=True):
    writer: str  # the writer whose seq a Skipped placeholder took
    seq: int
    reason: str
    key: str  # the record's largest key, for messages
    size: int  # the record's encoded size in bytes
    at: float  # when it was refused (Unix seconds)
    record: bytes  # the original record, msgpack, with its original seq
    n: int = 0  # its seq under the dead-letter writer (version-1 letters: their position)

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
    `trackwell sync` once that process is gone). ``skipped`` lists damaged byte ranges seen."""

    def __init__(self, journal: Path) -> None:
        self.path = dead_path(journal)
        self.skipped: list[tuple[int, int]] = []
        self._seqs: dict[str, set[int]] | None = None
        self._highest: int | None = None  # highest n in the file, as of the last read
        self._legacy = False

    def add(self, writer: str, record: AnyRecord, reason: str) -> DeadLetter:
        payload = encode(record)
        if self._highest is None or self._legacy:
            letters = self.letters()
            if self._legacy:
                self._rewrite(letters)
        n = max(self._highest or 0, read_ack(self.path)) + 1  # past any letter ever retried
        letter = DeadLetter(writer=writer, seq=record.seq, reason=reason, key=largest_key(record),
                            size=len(payload), at=time.time(), record=payload, n=n)
        frame = encode_frame(encode(letter))
        fresh = not self.path.exists() or self.path.stat().st_size < len(MAGIC)  # no letter yet
        with open(self.path, "wb" if fresh else "ab") as f:
            f.write(MAGIC + frame if fresh else frame)
            f.flush()
            os.fsync(f.fileno())  # before the placeholder is sent: the letter is the only copy
        self._highest = n
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
        """Every intact letter, in file order."""
        self.skipped = []
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            letters: list[DeadLetter] = []
        else:
            with f:
                head = f.read(len(MAGIC))
                self._legacy = head == MAGIC_V1
                letters = self._scan(f, self._legacy)
                if not letters and head not in (MAGIC, MAGIC_V1) and len(head) == len(MAGIC):
                    letters = self._scan(f, legacy=True)  # a version-1 file whose magic was damaged
                    self._legacy = bool(letters)
        self._highest = max((letter.n for letter in letters), default=0)
        return letters

    def highest(self) -> int:
        """The highest letter number in the file: how many letters were ever set aside."""
        self.letters()
        return self._highest or 0

    def _scan(self, f: Any, legacy: bool) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        self.skipped = []
        for start, end, payload in scan(f, len(MAGIC), codec=LEGACY if legacy else FRAMES):
            letter = None
            if payload is not None:
                try:
                    letter = msgspec.msgpack.decode(payload, type=DeadLetter)
                except msgspec.DecodeError:
                    pass
            if letter is None:
                self.skipped.append((start, end))
                continue
            if legacy:
                letter.n = len(letters) + 1  # version 1 numbered letters by position
            letters.append(letter)
        return letters

    def _rewrite(self, letters: list[DeadLetter]) -> None:
        """Turn a version-1 file into version 2 (same letters, same numbers); the old bytes stay
        in ``<file>.v1``."""
        keep = self.path.with_name(self.path.name + ".v1")
        try:
            os.link(self.path, keep)
        except FileExistsError:
            pass
        except OSError:  # no hard links here
            shutil.copyfile(self.path, keep)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(MAGIC + b"".join(encode_frame(encode(letter)) for letter in letters))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._legacy = False
