"""The run journal: an append-only file of CRC-checked frames, the client's source of truth.

Layout::

    header:  b"TWJ1" | u16 version | u32 n | n bytes msgpack JournalHeader | u32 crc32(header)
    frames:  u32 length | u32 crc32(payload) | payload (msgpack record)

A frame is written with one ``write()``; a reader stops at the first incomplete or
CRC-failing frame at the end of the file (a torn tail after a crash, or a frame still being
written). A bad frame followed by good data is corruption and is reported, not skipped.

Beside the journal live two small files: ``<journal>.ack`` (highest seq the server
acknowledged, written atomically) and ``<journal>.synced`` (present once the server
acknowledged the last record of a finished or offline run).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

from trackwell.schema import AnyRecord, decode_record, encode

MAGIC = b"TWJ1"
VERSION = 1
JOURNAL_SUFFIX = ".twj"

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_FRAME = struct.Struct("<II")


class JournalHeader(msgspec.Struct, kw_only=True):
    version: int
    writer: str
    entity: str
    project: str
    run_id: str
    created: float
    mode: str  # "online" | "offline"


class JournalError(Exception):
    """The journal file cannot be read: not a journal, a newer version, or corrupted."""


def journal_path(run_dir: str | os.PathLike[str], run_id: str) -> Path:
    return Path(run_dir) / f"run-{run_id}{JOURNAL_SUFFIX}"


def ack_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".ack")


def synced_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".synced")


class JournalWriter:
    """Appends records; used by one thread only (the SDK's writer thread)."""

    def __init__(self, path: str | os.PathLike[str], header: JournalHeader) -> None:
        self.path = Path(path)
        self.header = header
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        if fresh:
            body = encode(header)
            self._file.write(MAGIC + _U16.pack(VERSION) + _U32.pack(len(body)) + body + _U32.pack(zlib.crc32(body)))

    def append(self, records: list[AnyRecord]) -> int:
        """Write the records as frames with a single write; returns the bytes written."""
        buf = bytearray()
        for record in records:
            payload = encode(record)
            buf += _FRAME.pack(len(payload), zlib.crc32(payload))
            buf += payload
        if buf:
            self._file.write(buf)
        return len(buf)

    def sync(self) -> None:
        """fsync: survive power loss, not just a process kill (the page cache covers that)."""
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


class JournalReader:
    """Reads a journal, possibly while another thread or process is still appending to it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.header, self.data_offset = self._read_header()

    def _read_header(self) -> tuple[JournalHeader, int]:
        with open(self.path, "rb") as f:
            head = f.read(10)
            if len(head) < 10 or head[:4] != MAGIC:
                raise JournalError(f"{self.path} is not a trackwell journal (bad magic); "
                                   "point trackwell at a run directory's run-<id>.twj file")
            version = _U16.unpack_from(head, 4)[0]
            if version > VERSION:
                raise JournalError(f"{self.path} has journal version {version}; this trackwell "
                                   f"reads up to {VERSION}: upgrade trackwell")
            n = _U32.unpack_from(head, 6)[0]
            body = f.read(n)
            crc = f.read(4)
            if len(body) < n or len(crc) < 4 or _U32.unpack(crc)[0] != zlib.crc32(body):
                raise JournalError(f"{self.path}: journal header is torn or corrupted")
            return msgspec.msgpack.decode(body, type=JournalHeader), 10 + n + 4

    def read(self, offset: int | None = None, window: int = 4 * 1024 * 1024) -> Iterator[tuple[AnyRecord, int]]:
        """Yield (record, offset just past it) from ``offset`` (default: the first frame).

        Reads ``window`` bytes at a time (more for a frame larger than that), so catching up on a
        long unacknowledged tail after an outage does not load it all into memory.
        """
        pos = self.data_offset if offset is None else offset
        with open(self.path, "rb") as f:
            while True:
                f.seek(pos)
                data = f.read(window)
                view = memoryview(data)
                i, end = 0, len(data)
                while i + 8 <= end:
                    length, crc = _FRAME.unpack_from(view, i)
                    start = i + 8
                    if start + length > end:
                        break  # past the window, or an incomplete tail
                    payload = view[start:start + length]
                    if zlib.crc32(payload) != crc:
                        if self._valid_frame_at(f, pos + start + length):
                            raise JournalError(f"{self.path}: corrupted frame at byte {pos + i} "
                                               "followed by valid data; the journal was damaged on disk")
                        return  # torn tail: a crash mid-write, or a frame still being written
                    i = start + length
                    yield decode_record(payload), pos + i
                if end < window:
                    return  # end of file: what is left is an incomplete frame, if anything
                if i == 0:  # one frame larger than the window: read exactly that much next time
                    window = 8 + _FRAME.unpack_from(view, 0)[0] if end >= 8 else 8
                pos += i

    @staticmethod
    def _valid_frame_at(f: BinaryIO, offset: int) -> bool:
        f.seek(offset)
        head = f.read(8)
        if len(head) < 8:
            return False
        length, crc = _FRAME.unpack(head)
        payload = f.read(length)
        return len(payload) == length and zlib.crc32(payload) == crc

    def records(self) -> list[AnyRecord]:
        return [record for record, _ in self.read()]


def read_ack(journal: Path) -> int:
    """Highest seq the server acknowledged for this journal (0 if none)."""
    try:
        return int(ack_path(journal).read_text().strip() or 0)
    except FileNotFoundError:
        return 0


def write_ack(journal: Path, seq: int) -> None:
    """Persist the acknowledged position atomically (a crash leaves the old or the new value)."""
    target = ack_path(journal)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(str(seq))
    os.replace(tmp, target)
