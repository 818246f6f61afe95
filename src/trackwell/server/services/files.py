"""Run files and the blobs under them: uploads (one request, or resumable in parts), reading a
run's files, deleting them, and gc of blobs nothing references.

Publishing a blob and gc's deletion of one take one lock (this server is one process, as its
DuckDB is): gc never removes bytes an upload has just published, and an upload never skips
publishing because gc is halfway through removing the same digest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from trackwell.server.blobs import BlobStore, check_digest
from trackwell.server.services._errors import Conflict, NotFound, RunNotFound
from trackwell.store.metadata import BlobIndex, RunFile, RunStore

DEFAULT_GRACE = 3600.0  # gc spares blobs touched this recently: a client may reference them next


@dataclass(frozen=True)
class GcReport:
    dry_run: bool
    blobs: int
    bytes: int
    digests: list[str]
    uploads: int = 0  # abandoned resumable uploads aborted
    upload_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "blobs": self.blobs, "bytes": self.bytes, "digests": self.digests,
                "uploads": self.uploads, "upload_bytes": self.upload_bytes}


class FilesService:
    def __init__(self, runs: RunStore, index: BlobIndex, blobs: BlobStore) -> None:
        self._runs, self._index, self.blobs = runs, index, blobs
        self._publish = threading.Lock()

    # -- blobs ------------------------------------------------------------------------------
    def missing(self, digests: Iterable[str]) -> list[str]:
        """Which of ``digests`` the server does not hold; those it holds are touched (gc spares
        them for its grace period, so the caller may reference them without uploading)."""
        wanted = list(dict.fromkeys(map(check_digest, digests)))
        stored = self._index.touch_blobs(wanted, time.time())  # one transaction, not one per digest
        return [d for d in wanted if d not in stored]

    def begin(self) -> str:
        return self.blobs.begin_upload()

    def append(self, upload_id: str, offset: int, chunks: Iterable[bytes]) -> int:
        return self.blobs.append_upload(upload_id, offset, chunks)

    def offset(self, upload_id: str) -> int:
        return self.blobs.upload_offset(upload_id)

    def complete(self, upload_id: str, digest: str | None, size: int | None) -> tuple[str, int]:
        if digest is not None:
            check_digest(digest)
        with self._publish:
            digest, size = self.blobs.complete_upload(upload_id, digest, size)
            self._index.blob_stored(digest, size, time.time())
        return digest, size

    def put(self, chunks: Iterable[bytes] | BinaryIO, digest: str | None, size: int | None) -> tuple[str, int]:
        upload_id = self.blobs.begin_upload()
        try:
            self.blobs.append_upload(upload_id, 0, chunks)
            return self.complete(upload_id, digest, size)
        finally:
            self.blobs.abort_upload(upload_id)

    def put_many(self, blobs: list[tuple[str, bytes]]) -> list[str]:
        with self._publish:
            stored = self.blobs.put_many(blobs)
            self._index.blobs_stored(stored, time.time())
        return [digest for digest, _ in stored]

    def read(self, digest: str) -> tuple[int, Iterator[bytes]]:
        """The blob's size and its bytes in chunks."""
        size = self.blobs.size(digest)
        return size, _chunks(self.blobs.open(digest))

    # -- run files --------------------------------------------------------------------------
    def files(self, entity: str, project: str, run_id: str) -> list[dict[str, Any]]:
        return [file_to_api(f) for f in self._index.run_files(self._pk(entity, project, run_id))]

    def file(self, entity: str, project: str, run_id: str, name: str) -> RunFile:
        found = self._index.run_file(self._pk(entity, project, run_id), name)
        if found is None:
            raise NotFound(f"run {entity}/{project}/{run_id} has no file {name!r}: list its files at "
                           f"/api/v1/runs/{entity}/{project}/{run_id}/files")
        if not found.stored:
            raise Conflict(f"file {name!r} of run {entity}/{project}/{run_id} is recorded but its bytes have not "
                           "been uploaded yet (an offline run not synced, or an upload in progress): try again "
                           "after `trackwell sync`")
        return found

    def delete_file(self, entity: str, project: str, run_id: str, name: str) -> None:
        if not self._index.delete_run_file(self._pk(entity, project, run_id), name):
            raise NotFound(f"run {entity}/{project}/{run_id} has no file {name!r}")

    # -- gc ---------------------------------------------------------------------------------
    def gc(self, dry_run: bool = False, grace: float = DEFAULT_GRACE) -> GcReport:
        """Free the blobs nothing references and nobody touched in the last ``grace`` seconds,
        then the stored bytes no ``blobs`` row knows (a crash between publishing and recording),
        and abort resumable uploads idle that long (their client begins anew if it comes back)."""
        cutoff = time.time() - grace
        freed: list[str] = []
        total = 0
        for row in self._index.unreferenced_blobs(cutoff):
            if dry_run:
                freed.append(row.digest)
                total += row.size or 0
                continue
            with self._publish:
                if self._index.forget_blob(row.digest, cutoff) and self.blobs.delete(row.digest):
                    freed.append(row.digest)
                    total += row.size or 0
        for batch in _batches(self.blobs.digests(), 500):
            known = self._index.known_digests(batch)
            for digest in batch:
                if digest in known:
                    continue
                with self._publish:
                    if self._index.known_digests([digest]):  # published and recorded meanwhile
                        continue
                    size = self.blobs.size(digest)
                    if dry_run or self.blobs.delete(digest):
                        freed.append(digest)
                        total += size
        uploads = (0, 0) if dry_run else self.blobs.sweep_uploads(cutoff)
        return GcReport(dry_run, len(freed), total, freed, *uploads)

    def _pk(self, entity: str, project: str, run_id: str) -> int:
        pk = self._runs.run_pk(entity, project, run_id)
        if pk is None:
            raise RunNotFound(entity, project, run_id)
        return pk


def file_to_api(f: RunFile) -> dict[str, Any]:
    return {"name": f.name, "size": f.size, "digest": f.digest, "updated_at": f.updated_at, "uploaded": f.stored}


def _chunks(stream: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(size):
            yield chunk


def _batches(items: Iterable[str], n: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch
