"""Staged bytes: an immutable copy of each saved file in ``<run dir>/staged/<sha256>``, made
while hashing it (one read). The journal names the digest; the file uploader sends the staged
copy and removes it once the server holds the bytes, so whatever is still staged is exactly
what is left to upload (after a crash too: `trackwell sync` sends it). Staged copies are not
fsynced (a process crash keeps them; after a power loss a damaged one is refused by the server's
digest check and reported, like any file that changed)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

_CHUNK = 1024 * 1024
STATE_SUFFIX = ".upload"  # beside a staged file: the resumable upload under way for it


def staged_dir(run_root: Path) -> Path:
    return run_root / "staged"


def stage(source: Path, run_root: Path) -> tuple[str, int]:
    """Copy ``source`` into the run's staging area; returns its (sha256, size)."""
    where = staged_dir(run_root)
    where.mkdir(exist_ok=True)
    tmp = where / f".tmp-{uuid.uuid4().hex}"
    sha, size = hashlib.sha256(), 0
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
                out.write(chunk)
        digest = sha.hexdigest()
        target = where / digest
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return digest, size


def stage_bytes(data: bytes, run_root: Path) -> tuple[str, int]:
    """Stage ``data`` (media made in memory); returns its (sha256, size)."""
    where = staged_dir(run_root)
    where.mkdir(exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    target = where / digest
    if not target.exists():
        tmp = where / f".tmp-{uuid.uuid4().hex}"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return digest, len(data)


def pending(run_root: Path) -> list[tuple[str, Path]]:
    """(digest, path) of every staged file not yet uploaded."""
    where = staged_dir(run_root)
    if not where.is_dir():
        return []
    return [(p.name, p) for p in sorted(where.iterdir()) if len(p.name) == 64 and p.is_file()]


def uploaded(run_root: Path, digest: str) -> None:
    """The server holds ``digest``: drop the staged copy and its upload state."""
    where = staged_dir(run_root)
    (where / digest).unlink(missing_ok=True)
    (where / (digest + STATE_SUFFIX)).unlink(missing_ok=True)
