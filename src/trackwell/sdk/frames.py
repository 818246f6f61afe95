"""The frame codec shared by the run journal and the dead-letter file, and a scanner that reads
past damage.

A frame::

    b"\\xc1\\xf5" | u32 length | payload | u32 crc32(magic + length + payload)

The CRC covers the header, so a flipped length bit fails the check instead of silently taking
the rest of the file with it, and the non-zero magic means a zero-filled region (what a power
loss leaves at the end of a file) never parses as a frame. ``0xc1`` never occurs in msgpack's
structure nor in UTF-8, and ``0xf5`` never in UTF-8: inside payloads a magic is rare, and a
false one must also match a CRC (1 in 2^32).

``scan()`` yields the good frames and, where bytes are damaged, one ``(start, end, None)`` entry
for the skipped range, found by searching forward for the next frame whose magic, length and CRC
all check out. An incomplete or damaged frame with nothing valid after it is the end of the data
(a torn tail: a crash mid-write, or a frame still being written), not damage.

``LEGACY`` reads the version-1 journal and dead-letter frames (``u32 length | u32 crc32(payload) |
payload``, no magic), so existing offline runs still sync; nothing writes it any more.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

MAGIC = b"\xc1\xf5"
WINDOW = 4 * 1024 * 1024  # bytes read at a time; a larger frame is read whole
_MIN_WINDOW = 16  # room for any frame header
_U32 = struct.Struct("<I")
_HEAD = struct.Struct("<HI")  # magic (as a number: cheaper to compare), length
_MAGIC_U16 = int(_HEAD.unpack(MAGIC + bytes(4))[0])
_RESIDUE = 0x2144DF1C  # crc32 of any bytes followed by their own crc32 (little-endian)

# (start, end, payload): a good frame; (start, end, None): damaged bytes skipped
Entry = tuple[int, int, memoryview | None]


def encode_frame(payload: bytes) -> bytes:
    head = _HEAD.pack(_MAGIC_U16, len(payload))
    return head + payload + _U32.pack(zlib.crc32(payload, zlib.crc32(head)))


def append_frame(buf: bytearray, payload: bytes) -> None:
    """``buf += encode_frame(payload)`` without the intermediate copies (the journal's hot path)."""
    head = _HEAD.pack(_MAGIC_U16, len(payload))
    buf += head
    buf += payload
    buf += _U32.pack(zlib.crc32(payload, zlib.crc32(head)))


class Codec:
    """Where a frame's parts are; this class is the current format, ``_Legacy`` version 1."""

    head = 6  # bytes before the payload
    tail = 4  # bytes after it

    def length(self, data: bytes, i: int) -> int | None:
        """The payload length of a frame starting at ``i`` (``head`` bytes available), or None
        if no frame can start there."""
        if not data.startswith(MAGIC, i):
            return None
        return int(_U32.unpack_from(data, i + 2)[0])

    def intact(self, view: memoryview, i: int, end: int) -> bool:
        return zlib.crc32(view[i:end]) == _RESIDUE

    def intact_on_disk(self, f: BinaryIO, start: int, end: int) -> bool:
        """``intact`` for a frame larger than the window: the CRC computed a window at a time."""
        crc = _crc_of(f, start, end - 4)
        return crc is not None and crc == _u32_at(f, end - 4)

    def next_start(self, data: bytes, j: int) -> int:
        """The first index >= j where a frame might start (-1: none in ``data``)."""
        return data.find(MAGIC, j)


class _Legacy(Codec):
    head = 8
    tail = 0

    def length(self, data: bytes, i: int) -> int | None:
        length = int(_U32.unpack_from(data, i)[0])
        return length or None  # crc32(b"") == 0: zero bytes must not pass for an empty frame

    def intact(self, view: memoryview, i: int, end: int) -> bool:
        return zlib.crc32(view[i + 8:end]) == _U32.unpack_from(view, i + 4)[0]

    def intact_on_disk(self, f: BinaryIO, start: int, end: int) -> bool:
        crc = _crc_of(f, start + 8, end)
        return crc is not None and crc == _u32_at(f, start + 4)

    def next_start(self, data: bytes, j: int) -> int:
        return j if j < len(data) else -1  # no magic: any byte may start a frame


FRAMES = Codec()
LEGACY = _Legacy()


def scan(f: BinaryIO, offset: int, *, codec: Codec = FRAMES, window: int = WINDOW) -> Iterator[Entry]:
    """Yield the frames of ``f`` from ``offset`` (and the damaged ranges between them).

    Reads ``window`` bytes at a time, so a long file never sits in memory whole. Payloads are
    views into the current window: decode them before asking for the next entry.
    """
    win = _Window(f, window)
    win.load(offset)
    head, tail = codec.head, codec.tail
    pos = offset
    fast = codec is FRAMES
    unpack, crc32 = _HEAD.unpack_from, zlib.crc32
    while True:
        data, base = win.data, win.base
        view, n, i = memoryview(data), len(data), pos - base
        if fast:  # the journal reader's hot loop: the current format inlined
            while i + 6 <= n:
                magic, length = unpack(data, i)
                end = i + 10 + length
                if magic != _MAGIC_U16 or end > n or crc32(view[i:end]) != _RESIDUE:
                    break
                yield base + i, base + end, view[i + 6:end - 4]
                i = end
        while i + head <= n:  # whole frames inside the window
            length = codec.length(data, i)
            if length is None:
                break
            end = i + head + length + tail
            if end > n or not codec.intact(view, i, end):
                break
            yield base + i, base + end, view[i + head:end - tail]
            i = end
        pos = base + i
        across = _frame_across(win, codec, pos)
        if across is not None:  # a frame across the window's edge, or larger than a window
            yield pos, across, memoryview(win.data)[head:across - pos - tail]
            pos = across
            continue
        found = _resync(win, codec, pos + 1)
        if found is None:
            return  # the end: clean, a torn tail, or trailing garbage (zeros after a power loss)
        yield pos, found, None
        pos = found


class _Window:
    """The bytes of a file from ``base`` on, at least ``size`` of them unless the file ends."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = max(size, _MIN_WINDOW)
        self.base, self.data, self.eof = 0, b"", False

    def load(self, start: int, need: int = 0) -> None:
        size = max(self.size, need)
        self.f.seek(start)
        self.base, self.data = start, self.f.read(size)
        self.eof = len(self.data) < size

    def holds(self, start: int, end: int) -> bool:
        return self.base <= start and end <= self.base + len(self.data)


def _frame_across(win: _Window, codec: Codec, pos: int) -> int | None:
    """The end of the intact frame at ``pos`` that the fast path could not take whole (the window
    is then loaded from ``pos`` and holds it), or None."""
    win.load(pos)
    data, head, tail = win.data, codec.head, codec.tail
    if len(data) < head:
        return None
    length = codec.length(data, 0)
    if length is None:
        return None
    end = head + length + tail
    if end <= len(data):
        return pos + end if codec.intact(memoryview(data), 0, end) else None
    if win.eof or pos + end > _size(win.f) or not codec.intact_on_disk(win.f, pos, pos + end):
        return None  # past the end of the file: torn, or a damaged length
    win.load(pos, end)  # checked on disk first: a damaged length never makes us load gigabytes
    return pos + end


def _resync(win: _Window, codec: Codec, j: int) -> int | None:
    """The start of the first intact frame at or after byte ``j``, or None if there is none."""
    head, tail = codec.head, codec.tail
    size = _size(win.f)
    while True:
        if not win.holds(j, j + head):
            if j + head > size:
                return None
            win.load(j)
        data, base = win.data, win.base
        k = codec.next_start(data, j - base)
        if k < 0 or k + head > len(data):  # no frame header starts in this window: slide on
            if win.eof:
                return None
            j = max(j, base + len(data) - head + 1)
            win.load(j)
            continue
        start = base + k
        length = codec.length(data, k)
        if length is not None:
            end = start + head + length + tail
            if end <= size:
                if win.holds(start, end):
                    ok = codec.intact(memoryview(data), k, end - base)
                else:
                    ok = codec.intact_on_disk(win.f, start, end)
                if ok:
                    return start
        j = start + 1


def _size(f: BinaryIO) -> int:
    return os.fstat(f.fileno()).st_size


def _crc_of(f: BinaryIO, start: int, end: int, chunk: int = WINDOW) -> int | None:
    crc, pos = 0, start
    f.seek(start)
    while pos < end:
        data = f.read(min(chunk, end - pos))
        if not data:
            return None
        crc = zlib.crc32(data, crc)
        pos += len(data)
    return crc


def _u32_at(f: BinaryIO, pos: int) -> int | None:
    f.seek(pos)
    data = f.read(4)
    return int(_U32.unpack(data)[0]) if len(data) == 4 else None
