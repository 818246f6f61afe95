"""Blobs and run files. Uploads are per project (whoever may write to it): ask which digests are
missing, then send each in one request (``PUT .../blobs/{digest}``) or resumably in parts
(``POST .../uploads``, ``PUT .../uploads/{id}?offset=N``, ``POST .../uploads/{id}/complete``);
every blob is verified against its SHA-256 before it becomes visible. A run's files are read
(listed, downloaded as a stream) by whoever may read the run."""

from __future__ import annotations

import mimetypes
from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from trackwell.server._encoding import decode_body, request_body, respond
from trackwell.server._errors import ApiError, clip
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action
from trackwell.server.blobs import (
    BlobError,
    BlobNotFound,
    DigestMismatch,
    OffsetMismatch,
    UploadNotFound,
)
from trackwell.server.routers import _deps
from trackwell.server.services import Conflict
from trackwell.server.services.files import DEFAULT_GRACE

router = APIRouter()
_READ = [Depends(require(Action.RUN_READ))]
_WRITE = [Depends(require(Action.RUN_WRITE))]
_PROJECT = "/projects/{entity}/{project}"
_RUN = "/runs/{entity}/{project}/{run_id}"
MAX_DIGESTS = 10_000


class Digests(msgspec.Struct, forbid_unknown_fields=True):
    digests: list[str]


class Blob(msgspec.Struct, forbid_unknown_fields=True):
    digest: str
    data: bytes


class Blobs(msgspec.Struct, forbid_unknown_fields=True):
    blobs: list[Blob]


class Completion(msgspec.Struct, forbid_unknown_fields=True):
    digest: str | None = None
    size: int | None = None


class GcRequest(msgspec.Struct, forbid_unknown_fields=True):
    dry_run: bool = False
    grace_seconds: float = DEFAULT_GRACE


def _blob_error(exc: BlobError) -> ApiError:
    if isinstance(exc, (BlobNotFound, UploadNotFound)):
        return ApiError(404, str(exc), error="not_found")
    if isinstance(exc, OffsetMismatch):
        return ApiError(409, str(exc), error="offset_mismatch", offset=exc.offset)
    if isinstance(exc, DigestMismatch):
        return ApiError(422, str(exc), error="digest_mismatch")
    return ApiError(422, str(exc))


async def _call(fn: Any, *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except BlobError as exc:
        raise _blob_error(exc) from None


def _parse(request: Request, body: bytes, kind: type[Any], what: str) -> Any:
    try:
        return decode_body(request, body or b"{}", kind)
    except ValueError as exc:
        raise ApiError(422, f"invalid {what} body: {exc}") from None


@router.post(_PROJECT + "/blobs/missing", dependencies=_WRITE, openapi_extra=request_body(Digests))
async def missing(request: Request, entity: str, project: str) -> Response:
    """Which of the digests the server does not hold: upload those; reference the others at once."""
    body = _parse(request, await request.body(), Digests, "digests")
    if len(body.digests) > MAX_DIGESTS:
        raise ApiError(422, f"{len(body.digests)} digests in one request; ask about at most {MAX_DIGESTS} at a time")
    return respond(request, {"missing": await _call(_deps.files(request).missing, body.digests)})


@router.put(_PROJECT + "/blobs/{digest}", dependencies=_WRITE)
async def put_blob(request: Request, entity: str, project: str, digest: str) -> Response:
    """The whole blob as the body (up to the server's request limit; larger ones go in parts)."""
    data = await request.body()
    digest, size = await _call(_deps.files(request).put, [data], digest, None)
    return respond(request, {"digest": digest, "size": size})


@router.post(_PROJECT + "/blobs", dependencies=_WRITE, openapi_extra=request_body(Blobs))
async def put_blobs(request: Request, entity: str, project: str) -> Response:
    """Many small blobs in one request (msgpack ``{"blobs": [{"digest", "data"}]}``), each verified:
    ``{"stored": [digest, ...]}``; a mismatch is a 422 naming the digest (none is stored)."""
    body = _parse(request, await request.body(), Blobs, "blobs")
    stored = await _call(_deps.files(request).put_many, [(b.digest, b.data) for b in body.blobs])
    return respond(request, {"stored": stored})


@router.post(_PROJECT + "/uploads", dependencies=_WRITE)
async def begin_upload(request: Request, entity: str, project: str) -> Response:
    upload_id = await _call(_deps.files(request).begin)
    # a part is one request: leave room under the body limit
    return respond(request, {"upload_id": upload_id, "offset": 0,
                             "max_part_bytes": request.app.state.max_request_bytes})


@router.get(_PROJECT + "/uploads/{upload_id}", dependencies=_WRITE)
async def upload_offset(request: Request, entity: str, project: str, upload_id: str) -> Response:
    """Where a resumable upload stands: send the next part from ``offset``."""
    return respond(request, {"upload_id": upload_id, "offset": await _call(_deps.files(request).offset, upload_id)})


@router.put(_PROJECT + "/uploads/{upload_id}", dependencies=_WRITE)
async def upload_part(request: Request, entity: str, project: str, upload_id: str,
                      offset: int = Query(..., ge=0, le=2**62)) -> Response:
    """One part, its bytes the body, starting at ``offset``. A part already received (a retry) is
    accepted again; one past the end is answered 409 with the ``offset`` to resume from."""
    data = await request.body()
    new = await _call(_deps.files(request).append, upload_id, offset, [data])
    return respond(request, {"upload_id": upload_id, "offset": new})


@router.post(_PROJECT + "/uploads/{upload_id}/complete", dependencies=_WRITE, openapi_extra=request_body(Completion))
async def complete_upload(request: Request, entity: str, project: str, upload_id: str) -> Response:
    """Verify the upload against ``digest`` (and ``size``) and publish it; 422 on a mismatch
    (the upload is discarded: send the file again)."""
    body = _parse(request, await request.body(), Completion, "completion")
    digest, size = await _call(_deps.files(request).complete, upload_id, body.digest, body.size)
    return respond(request, {"digest": digest, "size": size})


@router.delete(_PROJECT + "/uploads/{upload_id}", dependencies=_WRITE)
async def abort_upload(request: Request, entity: str, project: str, upload_id: str) -> Response:
    await _call(_deps.files(request).blobs.abort_upload, upload_id)
    return respond(request, {"upload_id": upload_id, "aborted": True})


@router.get(_RUN + "/files", dependencies=_READ)
async def list_files(request: Request, entity: str, project: str, run_id: str) -> Response:
    """The run's files: name, size, digest (SHA-256), updated_at, uploaded (False: recorded, bytes
    still on their way)."""
    return respond(request, {"files": await run_in_threadpool(_deps.files(request).files, entity, project, run_id)})


@router.get(_RUN + "/files/{file_name:path}", dependencies=_READ)
async def download(request: Request, entity: str, project: str, run_id: str, file_name: str) -> Response:
    files = _deps.files(request)
    try:
        found = await run_in_threadpool(files.file, entity, project, run_id, file_name)
    except Conflict as exc:
        raise ApiError(409, str(exc), error="not_uploaded") from None
    try:
        size, chunks = await run_in_threadpool(files.read, found.digest)
    except BlobNotFound:
        raise ApiError(409, f"the bytes of file {clip(file_name)} are missing from the blob store; upload the file "
                            "again (`trackwell sync` of its run directory)", error="not_uploaded") from None
    kind = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
    quoted = file_name.rpartition("/")[2].replace('"', "")
    # A run's file is whatever its writer uploaded (HTML, SVG with scripts): a download, never a page
    # of this origin (attachment, sandboxed, no sniffing); <img>/<audio> elements still show media.
    return StreamingResponse(chunks, media_type=kind, headers={
        "Content-Length": str(size), "ETag": f'"{found.digest}"', "X-Trackwell-Sha256": found.digest,
        "Content-Disposition": f"attachment; filename=\"{quoted.encode('ascii', 'replace').decode()}\"",
        "Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"})


@router.delete(_RUN + "/files/{file_name:path}", dependencies=_WRITE)
async def delete_file(request: Request, entity: str, project: str, run_id: str, file_name: str) -> Response:
    """Forget the run's file; its bytes are freed by gc once nothing else references them."""
    await run_in_threadpool(_deps.files(request).delete_file, entity, project, run_id, file_name)
    return respond(request, {"deleted": file_name})


@router.post("/admin/gc", dependencies=[Depends(require(Action.ADMIN_WRITE))], openapi_extra=request_body(GcRequest))
async def gc(request: Request) -> Response:
    """Free blobs nothing references (untouched for ``grace_seconds``); ``dry_run``: only report."""
    body = _parse(request, await request.body(), GcRequest, "gc")
    if not 0 <= body.grace_seconds <= 10 * 365 * 86400:
        raise ApiError(422, f"grace_seconds is {clip(body.grace_seconds)}; give 0 to 315360000 seconds")
    report = await _call(_deps.files(request).gc, body.dry_run, body.grace_seconds)
    return respond(request, report.as_dict())
