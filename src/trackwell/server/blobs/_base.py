"""The blob store interface: content-addressed (SHA-256 hex) immutable bytes.

Every write goes through a staging file under the store's ``staging`` directory: bytes are
hashed as they stream in (bounded memory, one chunk at a time), checked against the digest and
size the caller expected, and only then published under their digest. A backend publishes
atomically (a rename on disk; one PUT on S3, which is visible only once complete), so a reader
never sees part of a blob. Resumable uploads are staging files kept between requests: the
client appends at the offset the server reports, and completes when all bytes are there.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1024 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class BlobError(Exception):
    """A blob operation the caller can fix (the message says how)."""


class BlobNotFound(BlobError, KeyError):
    def __init__(self, digest: str) -> None:
        super().__init__(f"no blob with sha256 {digest}")
        self.digest = digest

    def __str__(self) -> str:
        return str(self.args[0])


class DigestMismatch(BlobError):
    """The bytes received hash (or measure) differently from what the caller declared."""


class UploadNotFound(BlobError, KeyError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(f"no upload {upload_id} in progress (it completed, was aborted, or never began): "
                         "begin a new one")
        self.upload_id = upload_id

    def __str__(self) -> str:
        return str(self.args[0])


class OffsetMismatch(BlobError):
    """An append at an offset other than where the upload stands; ``offset`` is where it stands."""

    def __init__(self, upload_id: str, offset: int, given: int) -> None:
        super().__init__(f"upload {upload_id} has {offset} bytes; a part at offset {given} would leave a gap: "
                         f"resend from offset {offset}")
        self.offset = offset


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise BlobError(f"{digest!r} is not a SHA-256 digest: 64 lowercase hex characters")
    return digest


def _chunks_of(source: Iterable[bytes] | BinaryIO) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if read is None:
        yield from source  # type: ignore[misc]
        return
    while chunk := read(CHUNK):
        yield chunk


def _syncfs() -> Any:
    """Linux's syncfs(2) (every dirty page of one file system in one call), or None."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs() if sys.platform.startswith("linux") else None


def _sync_all(paths: list[Path]) -> None:
    """Make the files durable: one syncfs of their file system where Linux has it (an fsync per
    small file costs a journal commit each), else an fsync each."""
    if not paths:
        return
    if _SYNCFS is not None:
        fd = os.open(paths[0].parent, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        with open(path, "rb") as f:
            os.fsync(f.fileno())


class BlobStore(abc.ABC):
    """Content-addressed bytes on one backend; ``staging`` is a local directory for uploads."""

    def __init__(self, staging: str | Path) -> None:
        self.staging = Path(staging)
        self.staging.mkdir(parents=True, exist_ok=True)
        # upload id -> the hash of its bytes so far, fed as parts arrive in order: completing
        # then needs no second read (a restarted server, or an upload resumed elsewhere, re-reads)
        self._hashing: dict[str, Any] = {}
        self._hashing_lock = threading.Lock()

    # -- the backend's part ---------------------------------------------------------------
    @abc.abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abc.abstractmethod
    def size(self, digest: str) -> int:
        """The blob's size in bytes; ``BlobNotFound`` when it is not stored."""

    @abc.abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A readable binary stream of the blob; ``BlobNotFound`` when it is not stored."""

    @abc.abstractmethod
    def delete(self, digest: str) -> bool:
        """Remove the blob; False when it was not there."""

    @abc.abstractmethod
    def digests(self) -> Iterator[str]:
        """Every stored digest (for gc's sweep of blobs no metadata row knows)."""

    @abc.abstractmethod
    def _publish(self, staged: Path, digest: str, size: int) -> None:
        """Make the verified staging file ``staged`` the blob ``digest`` (atomically) and remove it."""

    def presigned_url(self, digest: str, expires: int = 3600) -> str | None:
        """A URL that reads the blob without credentials for ``expires`` seconds; None where the
        backend has no such thing (the server streams the bytes itself)."""
        return None

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release the backend's connections."""

    # -- writes, shared by every backend ---------------------------------------------------
    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, expected_digest: str | None = None,
                   expected_size: int | None = None) -> tuple[str, int]:
        """Store the bytes of ``chunks`` (an iterable of bytes or a binary file) and return
        ``(digest, size)``. With ``expected_digest``/``expected_size`` a mismatch raises
        ``DigestMismatch`` and nothing is stored. Bytes already stored are not stored twice."""
        if expected_digest is not None:
            check_digest(expected_digest)
        upload_id = self.begin_upload()
        try:
            self.append_upload(upload_id, 0, chunks)
            return self.complete_upload(upload_id, expected_digest, expected_size)
        finally:
            self.abort_upload(upload_id)  # a no-op once completed

    def put_many(self, blobs: list[tuple[str, bytes]]) -> list[tuple[str, int]]:
        """Store several small blobs given whole (``(digest, data)``), each verified; a mismatch
        raises ``DigestMismatch`` naming it and stores none of them. They are written, then synced
        together (one syncfs rather than a journal commit per blob), then published."""
        staged: list[tuple[Path, str, int]] = []
        try:
            for digest, data in blobs:
                check_digest(digest)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise DigestMismatch(f"blob {digest}: the bytes received hash to sha256 "
                                         f"{hashlib.sha256(data).hexdigest()}; send it again")
            for digest, data in blobs:
                if any(digest == d for _, d, _ in staged) or self.exists(digest):
                    continue
                path = self._staged(self.begin_upload())
                path.write_bytes(data)
                staged.append((path, digest, len(data)))
            _sync_all([path for path, _, _ in staged])
            for path, digest, size in staged:
                self._publish(path, digest, size)
        finally:
            for path, _, _ in staged:
                self.abort_upload(path.name)  # a no-op for the published ones
        return [(digest, len(data)) for digest, data in blobs]

    def begin_upload(self) -> str:
        """Start a resumable upload; the id names it in ``append_upload``/``complete_upload``."""
        upload_id = secrets.token_hex(16)
        self._staged(upload_id, must_exist=False).touch()
        with self._hashing_lock:
            self._hashing[upload_id] = (hashlib.sha256(), 0)
        return upload_id

    def upload_offset(self, upload_id: str) -> int:
        """How many bytes the upload holds: where the next part starts."""
        return self._staged(upload_id).stat().st_size

    def append_upload(self, upload_id: str, offset: int, chunks: Iterable[bytes] | BinaryIO) -> int:
        """Append a part starting at ``offset`` and return the new length. A part the upload
        already holds (a retry after a lost answer) is accepted again without writing; a part
        past the end raises ``OffsetMismatch`` naming where to resume."""
        path = self._staged(upload_id)
        have = path.stat().st_size
        if offset > have:
            raise OffsetMismatch(upload_id, have, offset)
        with self._hashing_lock:
            sha, hashed = self._hashing.pop(upload_id, (None, 0))  # taken: one appender feeds it at a time
        if hashed != have:
            sha = None  # bytes arrived that it did not see: complete_upload reads the file instead
        with open(path, "r+b") as out:
            out.seek(offset)
            position = offset
            for chunk in _chunks_of(chunks):
                # bytes before ``have`` are already there (a retried part): skip, do not rewrite
                if position + len(chunk) <= have:
                    position += len(chunk)
                    continue
                if position < have:
                    chunk = chunk[have - position:]
                    position = have
                    out.seek(have)
                out.write(chunk)
                if sha is not None:
                    sha.update(chunk)
                position += len(chunk)
        if sha is not None:
            with self._hashing_lock:
                self._hashing[upload_id] = (sha, max(have, position))
        return max(have, position)

    def complete_upload(self, upload_id: str, expected_digest: str | None = None,
                        expected_size: int | None = None) -> tuple[str, int]:
        """Verify the upload's bytes and publish them under their digest; returns ``(digest, size)``."""
        path = self._staged(upload_id)
        with self._hashing_lock:
            sha, hashed = self._hashing.pop(upload_id, (None, 0))
        size = path.stat().st_size
        if sha is None or hashed != size:
            sha, size = hashlib.sha256(), 0
            with open(path, "rb") as staged:
                while chunk := staged.read(CHUNK):
                    sha.update(chunk)
                    size += len(chunk)
        digest = sha.hexdigest()
        if expected_size is not None and size != expected_size:
            path.unlink(missing_ok=True)
            raise DigestMismatch(f"received {size} bytes, expected {expected_size}: upload the file again")
        if expected_digest is not None and digest != expected_digest:
            path.unlink(missing_ok=True)
            raise DigestMismatch(f"the bytes received hash to sha256 {digest}, not the {expected_digest} "
                                 "declared: the file changed or was damaged in transit; upload it again")
        if self.exists(digest):
            path.unlink(missing_ok=True)
        else:
            with open(path, "rb") as staged:  # durable before it is visible (parts are not fsynced)
                os.fsync(staged.fileno())
            self._publish(path, digest, size)
        return digest, size

    def abort_upload(self, upload_id: str) -> None:
        with self._hashing_lock:
            self._hashing.pop(upload_id, None)
        self._staged(upload_id, must_exist=False).unlink(missing_ok=True)

    def sweep_uploads(self, idle_before: float) -> tuple[int, int]:
        """Abort uploads no part reached since ``idle_before`` (a Unix time): (uploads, bytes)."""
        count = size = 0
        for path in self.staging.iterdir():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if st.st_mtime < idle_before and _UPLOAD_ID.fullmatch(path.name):
                path.unlink(missing_ok=True)
                with self._hashing_lock:
                    self._hashing.pop(path.name, None)
                count, size = count + 1, size + st.st_size
        return count, size

    def _staged(self, upload_id: str, must_exist: bool = True) -> Path:
        if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
            raise UploadNotFound(str(upload_id))
        path = self.staging / upload_id
        if must_exist and not path.exists():
            raise UploadNotFound(upload_id)
        return path
