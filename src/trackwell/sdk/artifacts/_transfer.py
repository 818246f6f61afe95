"""Bytes to and from the server, over the transport's blob uploads and downloads
(``transport/_files.py``): the blobs a manifest needs (only those the server lacks, small ones
several per request, large ones in resumable parts), the version logged, and downloads verified
against their digest into a cache shared by every artifact (one copy per digest).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwell.sdk.artifacts._entries import CHUNK, LocalEntry

if TYPE_CHECKING:
    from trackwell.transport import Client

_ASK = 1000  # digests per "which are missing?" question
_SMALL = 256 * 1024  # files up to this size go up several per request ...
_BATCH = 2 * 1024 * 1024  # ... in requests of about this many bytes
_WORKERS = 4


class ArtifactUploadError(RuntimeError):
    """A file could not be uploaded as it was added (it changed or vanished); the message names it."""


def artifacts_path(entity: str, project: str) -> str:
    return f"/api/v1/artifacts/{entity}/{project}"


def _as_upload_error(entry: LocalEntry, exc: Exception) -> Exception:
    if isinstance(exc, OSError):
        return ArtifactUploadError(f"cannot read {entry.local} (artifact file {entry.path!r}): {exc}")
    if getattr(exc, "status", None) == 422:
        return ArtifactUploadError(f"{entry.local} (artifact file {entry.path!r}) changed after it was added to "
                                   f"the artifact: {exc}; add it again")
    return exc


def _send(client: Client, entity: str, project: str, work: list[LocalEntry], resume: Path | None) -> None:
    """One worker's share: small entries a batch per request, large ones resumably in parts
    (the upload's id in ``resume/<digest>``, so a later process continues it)."""
    from trackwell.transport._files import upload_blob, upload_small

    batch: list[tuple[LocalEntry, bytes]] = []

    def flush() -> None:
        if batch:
            try:
                upload_small(client, entity, project, [(e.digest, data) for e, data in batch])
            except Exception as exc:  # noqa: BLE001 - named after the first of the batch
                raise _as_upload_error(batch[0][0], exc) from exc
            batch.clear()

    for entry in work:
        try:
            if entry.size <= _SMALL:
                batch.append((entry, Path(str(entry.local)).read_bytes()))
                if sum(len(data) for _, data in batch) >= _BATCH:
                    flush()
                continue
            upload_blob(client, entity, project, Path(str(entry.local)), entry.digest, entry.size,
                        state_path=None if resume is None else resume / entry.digest, ask=False)
        except Exception as exc:  # noqa: BLE001 - re-raised naming the file
            raise _as_upload_error(entry, exc) from exc
    flush()


def upload_blobs(client: Client, entity: str, project: str, entries: Iterable[LocalEntry],
                 resume: Path | None = None) -> int:
    """Upload the stored entries' bytes the server does not have; returns how many blobs were sent."""
    from trackwell.transport._files import missing_blobs

    by_digest = {e.digest: e for e in entries if e.ref is None}
    digests = sorted(by_digest)
    lacking: list[str] = []
    for i in range(0, len(digests), _ASK):
        lacking += missing_blobs(client, entity, project, digests[i:i + _ASK])
    wanted = [by_digest[d] for d in sorted(lacking)]
    for e in wanted:
        if e.local is None:
            raise ArtifactUploadError(f"the server lacks the bytes of {e.path!r} and they are not on this machine")
    if resume is not None and wanted:
        resume.mkdir(parents=True, exist_ok=True)
    shares = [wanted[k::_WORKERS] for k in range(_WORKERS)]
    with ThreadPoolExecutor(_WORKERS) as pool:
        list(pool.map(lambda share: _send(client, entity, project, share, resume), shares))
    return len(wanted)


def log_version(client: Client, entity: str, project: str, body: dict[str, Any],
                entries: list[LocalEntry], resume: Path | None = None) -> dict[str, Any]:
    """Upload what is missing, then log the version (again once, should gc have taken a blob
    between the question and the log)."""
    from trackwell.transport import ServerError

    versions = artifacts_path(entity, project) + "/versions"
    upload_blobs(client, entity, project, entries, resume)
    try:
        return client.request("POST", versions, json=body)  # type: ignore[no-any-return]
    except ServerError as exc:
        if exc.status != 409 or (exc.body or {}).get("error") != "missing_blobs":
            raise
    upload_blobs(client, entity, project, entries, resume)
    return client.request("POST", versions, json=body)  # type: ignore[no-any-return]


# -- downloads ---------------------------------------------------------------------------------

def cache_dir() -> Path:
    """``TRACKWELL_CACHE_DIR``, else ``$XDG_CACHE_HOME/trackwell``, else ``~/.cache/trackwell``."""
    explicit = os.environ.get("TRACKWELL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "trackwell"


def _cached(digest: str) -> Path:
    return cache_dir() / "artifacts" / "sha256" / digest[:2] / digest


def fetch(client: Client, version_path: str, entry: LocalEntry) -> Path:
    """The entry's bytes in the cache (downloaded and verified unless there already)."""
    from urllib.parse import quote

    from trackwell.transport._files import download

    target = _cached(entry.digest)
    if not (target.exists() and target.stat().st_size == entry.size):
        download(client, f"{version_path}/file?path={quote(entry.path, safe='')}", target, entry.digest)
    return target


def place(source: Path, dest: Path) -> None:
    """A copy of ``source`` at ``dest`` (never a link into the cache: editing it must not change the cache)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(source, tmp)  # the kernel's copy (copy_file_range/sendfile) where it has one
    os.replace(tmp, dest)


def fetch_reference(entry: LocalEntry, dest: Path) -> None:
    """A reference's bytes from where it points (file:// and s3://; http(s):// read as is)."""
    from urllib.parse import unquote, urlsplit

    assert entry.ref is not None
    parts = urlsplit(entry.ref)
    if parts.scheme == "file":
        place(Path(unquote(parts.path)), dest)
    elif parts.scheme == "s3":
        import boto3

        dest.parent.mkdir(parents=True, exist_ok=True)
        boto3.client("s3").download_file(parts.netloc, parts.path.lstrip("/"), str(dest))
    else:
        import httpx

        dest.parent.mkdir(parents=True, exist_ok=True)
        with httpx.stream("GET", entry.ref, follow_redirects=True, timeout=60) as response, open(dest, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)
