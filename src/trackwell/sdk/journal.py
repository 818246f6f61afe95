"""The run journal: an append-only file of CRC-checked frames, the client's source of truth.

Layout, version 3 (frames as in ``frames.py``: magic, length, payload, CRC over all three)::

    b"TWJ1" | u16 version=3 | frame(msgpack JournalHeader) | frame(record) | frame(record) | ...

Consecutive History rows written together are one ``HistoryBlock`` record (``schema/blocks.py``:
by column, ~9 bytes for a row of one float where a History record took ~127), so a frame may
hold many seqs; everything else is one record per frame. Version 2 (the same without blocks) is
still read, and so is version 1.

Version 1::

    b"TWJ1" | u16 1 | u32 n | n bytes msgpack JournalHeader | u32 crc32(header) | legacy frames

Damage is read past, never a reason to stop: the reader yields every intact record, records
the byte ranges it skipped (``reader.skipped``) and, from the seqs on either side, which records
were lost (``reader.losses``). A torn tail (an incomplete last frame, or zeros a power loss left)
is the normal end of a journal.

**A damaged header.** The header names the writer id the server knows the records by, so it
is kept twice: at the start of the journal and in ``<journal>.header``, a copy of the journal's
first bytes written when the journal is created. If the journal's own header frame is damaged,
the copy is used (``reader.note`` says so). If both are lost the writer id is not derived or
guessed: a made-up id would make the server apply records a second time if an earlier upload
had got some through, so the reader refuses with an error naming the missing file.

**Holes.** Lost records leave a gap in the writer's seqs. Delivery sends a ``Skipped``
placeholder ("lost to journal corruption") for each lost seq, so the server applies the rest
exactly once and the loss stays visible in the run; `trackwell sync` reports it, exits
non-zero and never marks such a journal synced (every later sync reports it again).

**Durability.** A batch of records is one ``write()`` loop (short writes continued); if it
fails, the file is cut back to the end of the last good frame, so the writer thread's retry of
the same records never lands after a partial frame. ``fdatasync`` runs at most every
``fsync_interval`` seconds when something was written, and at close.

Beside the journal live ``<journal>.ack`` (highest seq the server acknowledged, written
atomically), ``<journal>.synced`` (present once the server acknowledged the last record of a
finished or offline run) and ``<journal>.header``.
"""

from __future__ import annotations

import errno
import os
import struct
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec

from trackwell.schema import AnyRecord, History, HistoryBlock, decode_record, encode
from trackwell.schema.blocks import Row, expand, pack, pack_rows
from trackwell.sdk._journal_files import (
    JOURNAL_SUFFIX,
    ack_path,
    fsync_path,
    header_path,
    journal_path,
    read_ack,
    synced_path,
    write_ack,
    write_file,
)
from trackwell.sdk.frames import FRAMES, LEGACY, WINDOW, append_frame, encode_frame, scan

__all__ = ["JOURNAL_SUFFIX", "VERSION", "JournalError", "JournalHeader", "JournalReader", "JournalWriter", "Loss",
           "ack_path", "header_path", "journal_path", "read_ack", "synced_path", "write_ack"]

MAGIC = b"TWJ1"  # the file's magic in every version (the u16 after it is the version)
VERSION = 3
_FRAMED = (2, 3)  # versions made of ``frames.py`` frames (3 adds HistoryBlock records)

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_PREAMBLE = len(MAGIC) + _U16.size


class JournalHeader(msgspec.Struct, kw_only=True):
    version: int
    writer: str
    entity: str
    project: str
    run_id: str
    created: float
    mode: str  # "online" | "offline"


class JournalError(Exception):
    """The journal file cannot be read: not a journal, a newer version, or its header is lost."""


@dataclass(frozen=True)
class Loss:
    """Records of one writer that damage on disk took: seqs ``first_seq..last_seq``."""

    first_seq: int
    last_seq: int
    start: int | None  # the damaged bytes, when the reader saw them
    end: int | None

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1

    def describe(self, run: str) -> str:
        """E.g. "3 records of run e/p/r were lost to corruption at bytes 900-1000 (seqs 7-9)"."""
        where = f" at bytes {self.start}-{self.end}" if self.start is not None else ""
        if self.count == 1:
            return f"1 record of run {run} was lost to corruption{where} (seq {self.first_seq})"
        return (f"{self.count} records of run {run} were lost to corruption{where} "
                f"(seqs {self.first_seq}-{self.last_seq})")


class JournalWriter:
    """Appends records; used by one thread at a time (the SDK's writer thread)."""

    def __init__(self, path: str | os.PathLike[str], header: JournalHeader, *,
                 fsync_interval: float = 1.0, blocks: bool = True) -> None:
        self.path = Path(path)
        self.blocks = blocks  # False: one frame per record (tests of the frame layer)
        self.header = msgspec.structs.replace(header, version=VERSION)
        self.fsync_interval = fsync_interval
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._unsynced: list[Path] = []  # made with the journal: made durable with its first sync
        try:
            if os.fstat(self._fd).st_size == 0:
                start = MAGIC + _U16.pack(VERSION) + encode_frame(encode(self.header))
                self._write_all(start)
                write_file(header_path(self.path), start)
                self._unsynced = [header_path(self.path), self.path.parent]
            else:
                version = _version_of(self.path)
                if version == 2:  # made by an earlier trackwell: it stays a version-2 journal
                    self.blocks = False
                elif version != VERSION:
                    raise JournalError(f"{self.path} is not a version-{VERSION} journal; appending to it "
                                       "would mix formats: start a new run (or resume this one)")
        except BaseException:
            os.close(self._fd)
            raise
        self._end = os.lseek(self._fd, 0, os.SEEK_END)  # end of the last good frame
        self._synced_at = time.monotonic()
        self._dirty = False  # written since the last sync

    def append(self, records: list[AnyRecord]) -> int:
        """Write the records as frames; returns the bytes written.

        On an ``OSError`` nothing of this call is left in the file (as far as the OS lets us
        truncate): the caller keeps the records and appends them again later.
        """
        # all encoded first: an encoding error writes nothing
        return self._append_encoded([encode(record) for record in (pack(records) if self.blocks else records)])

    def _append_encoded(self, payloads: list[bytes]) -> int:
        buf = bytearray()
        for payload in payloads:
            append_frame(buf, payload)
        if not buf:
            return 0
        try:
            self._write_all(buf)
            self._dirty = True
            if time.monotonic() - self._synced_at >= self.fsync_interval:
                self.sync()
        except OSError:
            self._cut_back()
            raise
        self._end = os.lseek(self._fd, 0, os.SEEK_CUR)  # O_APPEND: the offset is the file's end
        return len(buf)

    def append_rows(self, first_seq: int, base: float, rows: Sequence[Row]) -> int:
        """Write rows the SDK's writer built (``schema.blocks.pack_rows``: seqs from
        ``first_seq``, runtime = ts - ``base``, no ``_runtime``/``_timestamp`` in their data) as
        blocks; returns the bytes written. A version-2 journal gets them as History records."""
        if not self.blocks:
            return self.append([_history(first_seq + i, base, row) for i, row in enumerate(rows)])
        return self._append_encoded([encode(block) for block in pack_rows(first_seq, base, rows)])

    def sync_if_due(self) -> None:
        """Sync what was written if ``fsync_interval`` has passed: for a caller that wakes
        periodically, so the last records before a quiet spell do not wait for the next append."""
        if self._dirty and time.monotonic() - self._synced_at >= self.fsync_interval:
            self.sync()

    def sync(self) -> None:
        """fdatasync: survive power loss, not just a process kill (the page cache covers that)."""
        (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(self._fd)  # macOS has no fdatasync
        self._synced_at = time.monotonic()
        self._dirty = False
        for path in self._unsynced:
            fsync_path(path)
        self._unsynced = []

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1

    def _write_all(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)  # may be short (a signal, a file size limit, a full disk)
            if n <= 0:
                raise OSError(errno.ENOSPC, f"writing the journal {self.path} made no progress")
            view = view[n:]

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self._fd, self._end)
        except OSError:
            pass  # the partial frame stays; readers skip it and the retry lands after it


class JournalReader:
    """Reads a journal, possibly while another thread or process is still appending to it.

    ``skipped`` lists the damaged byte ranges seen so far, ``losses`` the records they took
    (found from the seqs on either side), ``note`` how a damaged header was recovered.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.skipped: list[tuple[int, int]] = []
        self.losses: list[Loss] = []
        self.note: str | None = None
        self.version, self.header, self.data_offset = self._open()
        self._codec = LEGACY if self.version == 1 else FRAMES
        self._last = (self.data_offset, 0)  # (offset just past a record, its seq): seq gaps span reads

    def read(self, offset: int | None = None, window: int = WINDOW) -> Iterator[tuple[AnyRecord, int]]:
        """Yield (record, offset just past it) from ``offset`` (default: the first frame).

        Reads ``window`` bytes at a time (more for a frame larger than that), so catching up on a
        long unacknowledged tail after an outage does not load it all into memory.
        """
        pos = self.data_offset if offset is None else offset
        prev: int | None = self._last[1] if pos == self._last[0] else 0 if pos == self.data_offset else None
        damaged: tuple[int, int] | None = None
        last_end = pos
        try:
            with open(self.path, "rb") as f:
                for start, end, payload in scan(f, pos, codec=self._codec, window=window):
                    record = None
                    if payload is not None:
                        try:
                            record = decode_record(payload)
                        except msgspec.DecodeError:
                            pass  # intact bytes we cannot decode: as good as damaged
                    if record is None:
                        damaged = (damaged[0] if damaged else start, end)
                        continue
                    seq = record.seq
                    last = seq + record.n - 1 if type(record) is HistoryBlock else seq
                    if damaged is not None or prev is None or seq != prev + 1:
                        self._check_seq(prev, seq, damaged)
                        prev = last if prev is None or last > prev else prev
                    else:
                        prev = last
                    damaged, last_end = None, end
                    yield record, end
        finally:
            if prev is not None:
                self._last = (last_end, prev)
        if damaged is not None:  # undecodable frames at the very end
            self._skip(damaged)

    def _check_seq(self, prev: int | None, seq: int, damaged: tuple[int, int] | None) -> None:
        if damaged is not None:
            self._skip(damaged)
        if prev is not None and seq > prev + 1:
            self._lose(Loss(prev + 1, seq - 1, *(damaged or (None, None))))

    def records(self, *, blocks: bool = False) -> list[AnyRecord]:
        """Every intact record; blocks unpacked into their History rows unless ``blocks``."""
        found = [record for record, _ in self.read()]
        return found if blocks else expand(found)

    def _skip(self, span: tuple[int, int]) -> None:
        if span not in self.skipped:
            self.skipped.append(span)

    def _lose(self, loss: Loss) -> None:
        if all(known.first_seq != loss.first_seq for known in self.losses):
            self.losses.append(loss)

    # -- the header -------------------------------------------------------------------------

    def _open(self) -> tuple[int, JournalHeader, int]:
        with open(self.path, "rb") as f:
            head = f.read(_PREAMBLE)
            version = _U16.unpack_from(head, 4)[0] if len(head) == _PREAMBLE and head[:4] == MAGIC else None
            if version == 1:
                header, offset = self._v1_header(f)
                return 1, header, offset
            found = _header_frame(f)
        if found is not None:
            header, offset = found
            if header.version > VERSION:
                raise JournalError(f"{self.path} has journal version {header.version}; this trackwell "
                                   f"reads up to {VERSION}: upgrade trackwell")
            if version not in _FRAMED:
                self.note = "the journal's first bytes were damaged; its header was intact"
                version = header.version if header.version in _FRAMED else VERSION
            return version, header, offset
        if version is not None and version > VERSION:
            raise JournalError(f"{self.path} has journal version {version}; this trackwell "
                               f"reads up to {VERSION}: upgrade trackwell")
        if version is None and len(head) == _PREAMBLE:
            v1 = self._v1_header_or_none()
            if v1 is not None:  # a version-1 journal with its magic damaged
                self.note = "the journal's first bytes were damaged; its header was intact"
                return 1, v1[0], v1[1]
        return VERSION, self._header_copy(head), _PREAMBLE

    def _header_copy(self, head: bytes) -> JournalHeader:
        copy = header_path(self.path)
        try:
            with open(copy, "rb") as f:
                found = _header_frame(f)
        except FileNotFoundError:
            found = None
        if found is None:
            if not head.startswith(MAGIC):
                raise JournalError(f"{self.path} is not a trackwell journal (bad magic, and no readable "
                                   f"header copy {copy.name}); point trackwell at a run directory's "
                                   "run-<id>.twj file")
            why = "is missing" if not copy.exists() else "is damaged too"
            raise JournalError(
                f"{self.path}: the journal header is damaged and its copy {copy.name} {why}, so the "
                "writer id the server knows these records by cannot be recovered; restore "
                f"{copy.name} from a backup of the run directory, then sync again")
        self.note = f"the journal header was damaged; recovered from {copy.name}"
        return found[0]

    def _v1_header(self, f: BinaryIO) -> tuple[JournalHeader, int]:
        found = _v1_header_at(f)
        if found is None:
            raise JournalError(f"{self.path}: the header of this version-1 journal is torn or corrupted")
        return found

    def _v1_header_or_none(self) -> tuple[JournalHeader, int] | None:
        with open(self.path, "rb") as f:
            return _v1_header_at(f)


def _history(seq: int, base: float, row: Row) -> History:
    data, step, ts = row
    runtime = ts - base
    return History(seq=seq, ts=ts, step=step, runtime=runtime, data={**data, "_runtime": runtime, "_timestamp": ts})


def _header_frame(f: BinaryIO) -> tuple[JournalHeader, int] | None:
    """The version-2 header frame right after the preamble, if intact."""
    for start, end, payload in scan(f, _PREAMBLE, window=64 * 1024):
        if start != _PREAMBLE or payload is None:
            return None
        try:
            return msgspec.msgpack.decode(payload, type=JournalHeader), end
        except msgspec.DecodeError:
            return None
    return None


def _v1_header_at(f: BinaryIO) -> tuple[JournalHeader, int] | None:
    f.seek(_PREAMBLE)
    raw = f.read(4)
    if len(raw) < 4:
        return None
    n = _U32.unpack(raw)[0]
    body, crc = f.read(n), f.read(4)
    if len(body) < n or len(crc) < 4 or _U32.unpack(crc)[0] != zlib.crc32(body):
        return None
    try:
        return msgspec.msgpack.decode(body, type=JournalHeader), _PREAMBLE + 4 + n + 4
    except msgspec.DecodeError:
        return None


def _version_of(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(_PREAMBLE)
    return _U16.unpack_from(head, 4)[0] if len(head) == _PREAMBLE and head[:4] == MAGIC else None
