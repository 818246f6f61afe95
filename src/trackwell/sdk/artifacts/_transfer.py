"""Bytes to and from the server: the blobs a manifest needs (only those the server lacks,
small ones in one request, large ones in resumable parts), the version logged, and downloads
verified against their digest into a cache shared by every artifact (one copy per digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from trackwell.sdk._journal_files import write_file
from trackwell.sdk.artifacts._entries import CHUNK, LocalEntry

if TYPE_CHECKING:
    from trackwell.transport import Client

PART = 4 << 20  # bytes per one-request blob; a part is what the server allows (max_part_bytes)
_PART_MARGIN = 64 << 10  # under the request limit: headers and framing
_ASK = 10_000  # digests per "which are missing" question
_WORKERS = 4


class UploadLog:
    """Part uploads in progress, by digest (``{digest: {"upload_id", "part"}}``), kept in a file
    beside the staged artifact: a process killed mid-upload is resumed by `trackwell sync` from
    the offset the server has, not from the first byte."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return {}

    def get(self, digest: str) -> dict[str, Any] | None:
        return self._read().get(digest)

    def put(self, digest: str, upload: dict[str, Any] | None) -> None:
        with self._lock:
            found = self._read()
            if upload is None:
                found.pop(digest, None)
            else:
                found[digest] = upload
            write_file(self.path, json.dumps(found).encode())


class ArtifactUploadError(RuntimeError):
    """A file could not be uploaded as it was added (it changed or vanished); the message names it."""


def artifacts_path(entity: str, project: str) -> str:
    return f"/api/v1/artifacts/{entity}/{project}"


def blobs_path(entity: str, project: str) -> str:
    """Where a project's blobs go in (the files routes: missing, one-request PUT, uploads in parts)."""
    return f"/api/v1/projects/{entity}/{project}"


def missing(client: Client, base: str, digests: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(digests), _ASK):
        out.update(client.request("POST", base + "/blobs/missing", json={"digests": digests[i:i + _ASK]})["missing"])
    return out


def _put_one(client: Client, base: str, entry: LocalEntry, log: UploadLog | None) -> None:
    assert entry.local is not None
    try:
        if entry.size <= PART:
            with open(entry.local, "rb") as f:
                client.request("PUT", f"{base}/blobs/{entry.digest}", content=f.read(PART + 1),
                               content_type="application/octet-stream")
            return
        _put_parts(client, base, entry, log)
    except OSError as exc:
        raise ArtifactUploadError(f"cannot read {entry.local} (artifact file {entry.path!r}): {exc}") from exc
    except Exception as exc:
        if getattr(exc, "status", None) == 422:
            raise ArtifactUploadError(f"{entry.local} (artifact file {entry.path!r}) changed after it was added "
                                      f"to the artifact: {exc}; add it again") from exc
        raise


def _part(f: BinaryIO, offset: int, size: int) -> Iterator[bytes]:
    """A part streamed from the file a chunk at a time. Not one ``bytes`` of the whole part: the
    transport's retry machinery keeps its arguments in reference cycles until the cyclic GC runs,
    and 8 MiB parts held that way took the client's RSS to 225 MiB for a 1 GiB upload. A retry
    of a consumed part sends nothing, and the server answers the offset it has: the loop goes on
    from there."""
    f.seek(offset)
    left = size
    while left > 0 and (chunk := f.read(min(CHUNK, left))):
        left -= len(chunk)
        yield chunk


def _resumed(client: Client, base: str, found: dict[str, Any] | None) -> tuple[str, int, int] | None:
    """(upload id, part size, offset) of an upload an earlier process began, if the server has it."""
    from trackwell.transport import ServerError

    if found is None:
        return None
    try:
        offset = int(client.request("GET", f"{base}/uploads/{found['upload_id']}")["offset"])
    except ServerError as exc:
        if exc.status == 404:  # completed, aborted or cleaned up: begin anew
            return None
        raise
    return str(found["upload_id"]), int(found["part"]), offset


def _put_parts(client: Client, base: str, entry: LocalEntry, log: UploadLog | None) -> None:
    """A large blob in parts; a part the server already has (a retry after a lost answer) is
    skipped by the server, and an offset it does not expect is answered with the one it does."""
    from trackwell.transport import ServerError

    resumed = _resumed(client, base, log.get(entry.digest) if log else None)
    if resumed is None:
        begun = client.request("POST", base + "/uploads")
        resumed = begun["upload_id"], max(PART, int(begun.get("max_part_bytes") or 0) - _PART_MARGIN), 0
        if log is not None:
            log.put(entry.digest, {"upload_id": resumed[0], "part": resumed[1]})
    upload, size, offset = resumed
    with open(str(entry.local), "rb") as f:
        while offset < entry.size:
            try:
                offset = client.request("PUT", f"{base}/uploads/{upload}", params={"offset": offset},
                                        content=_part(f, offset, size), content_type="application/octet-stream")["offset"]
            except ServerError as exc:
                if exc.status != 409 or "offset" not in (exc.body or {}):
                    raise
                offset = int(exc.body["offset"])
    client.request("POST", f"{base}/uploads/{upload}/complete", json={"digest": entry.digest, "size": entry.size})
    if log is not None:
        log.put(entry.digest, None)


def upload_blobs(client: Client, base: str, entries: Iterable[LocalEntry], log: UploadLog | None = None) -> int:
    """Upload the stored entries' bytes the server does not have; returns how many blobs were sent."""
    by_digest = {e.digest: e for e in entries if e.ref is None}
    wanted = [by_digest[d] for d in sorted(missing(client, base, sorted(by_digest)))]
    for e in wanted:
        if e.local is None:
            raise ArtifactUploadError(f"the server lacks the bytes of {e.path!r} and they are not on this machine")
    with ThreadPoolExecutor(_WORKERS) as pool:
        list(pool.map(lambda e: _put_one(client, base, e, log), wanted))
    return len(wanted)


def log_version(client: Client, entity: str, project: str, body: dict[str, Any],
                entries: list[LocalEntry], log: UploadLog | None = None) -> dict[str, Any]:
    """Upload what is missing, then log the version (again once, should gc have taken a blob
    between the question and the log)."""
    from trackwell.transport import ServerError

    blobs, versions = blobs_path(entity, project), artifacts_path(entity, project) + "/versions"
    upload_blobs(client, blobs, entries, log)
    try:
        return client.request("POST", versions, json=body)  # type: ignore[no-any-return]
    except ServerError as exc:
        if exc.status != 409 or (exc.body or {}).get("error") != "missing_blobs":
            raise
    upload_blobs(client, blobs, entries, log)
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
    target = _cached(entry.digest)
    if target.exists() and target.stat().st_size == entry.size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        sha = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in client.stream("GET", version_path + "/file", params={"path": entry.path}, chunk_size=CHUNK * 4):
                sha.update(chunk)
                out.write(chunk)
        if sha.hexdigest() != entry.digest:
            raise ArtifactUploadError(f"{entry.path!r} arrived with sha256 {sha.hexdigest()}, not {entry.digest}: "
                                      "damaged in transit; download again")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
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
