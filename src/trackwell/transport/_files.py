"""Blob uploads and file downloads over ``Client``: streamed, verified, resumable.

An upload asks first whether the server has the bytes (content addressing: the same file is
sent once, whoever saves it). A file larger than one part goes up in parts of the server's
``max_part_bytes``; the upload's id is kept in ``state_path`` so a later process (after a
crash, or `trackwell sync`) asks the server where the upload stands and sends only the rest.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trackwell.transport._client import Client

SMALL = 4 * 1024 * 1024  # at most this many bytes go up in one request
PART_BYTES: int | None = None  # a part's size; None: the largest the server takes
_READ = 1024 * 1024


def project_path(entity: str, project: str) -> str:
    return f"/api/v1/projects/{entity}/{project}"


def missing_blobs(client: Client, entity: str, project: str, digests: list[str]) -> list[str]:
    """Which of ``digests`` the server lacks (those it has are kept for a while: reference them)."""
    body = client.request("POST", project_path(entity, project) + "/blobs/missing", json={"digests": digests})
    return list(body["missing"])


def upload_small(client: Client, entity: str, project: str, blobs: list[tuple[str, bytes]]) -> None:
    """Several small blobs in one request (each verified by the server)."""
    import msgspec

    body = msgspec.msgpack.encode({"blobs": [{"digest": d, "data": data} for d, data in blobs]})
    client.request("POST", project_path(entity, project) + "/blobs", content=body, content_type="application/msgpack")


def upload_blob(client: Client, entity: str, project: str, path: Path, digest: str, size: int,
                state_path: Path | None = None, ask: bool = True) -> None:
    """Send the file at ``path`` (SHA-256 ``digest``, ``size`` bytes) unless the server has it
    (``ask=False``: the caller asked already, with ``missing_blobs``)."""
    from trackwell.transport._client import ServerError

    base = project_path(entity, project)
    if ask and not missing_blobs(client, entity, project, [digest]):
        return
    if size <= SMALL:
        client.request("PUT", f"{base}/blobs/{digest}", content=path.read_bytes(),
                       content_type="application/octet-stream")
        return
    for attempt in range(2):
        try:
            _upload_parts(client, base, path, digest, size, state_path)
            return
        except ServerError as exc:
            # 404: the upload we resumed was completed, aborted or swept meanwhile (another
            # process sending the same bytes, a restarted server): done if the server has the
            # bytes now, else begin a new upload once, as the answer says
            if exc.status != 404 or attempt:
                raise
            if state_path is not None:
                state_path.unlink(missing_ok=True)
            if not missing_blobs(client, entity, project, [digest]):
                return


def _upload_parts(client: Client, base: str, path: Path, digest: str, size: int, state_path: Path | None) -> None:
    from trackwell.transport._client import ServerError

    upload_id, offset, part = _resume(client, base, state_path)
    if upload_id is None:
        begun = client.request("POST", f"{base}/uploads")
        upload_id, offset = begun["upload_id"], 0
        part = int(begun.get("max_part_bytes") or SMALL)
        if state_path is not None:
            _write_state(state_path, {"upload_id": upload_id, "part": part})
    part = PART_BYTES or max(64 * 1024, min(part - 64 * 1024, 64 * 1024 * 1024))  # room under the body limit
    while offset < size:
        length = min(part, size - offset)
        try:
            offset = int(client.request("PUT", f"{base}/uploads/{upload_id}", params={"offset": offset},
                                        content=functools.partial(_read, path, offset, length),
                                        content_type="application/octet-stream")["offset"])
        except ServerError as exc:
            if exc.status != 409 or not isinstance(exc.body, dict) or "offset" not in exc.body:
                raise
            offset = int(exc.body["offset"])  # the server has less (or more) than we thought
    client.request("POST", f"{base}/uploads/{upload_id}/complete", json={"digest": digest, "size": size})
    if state_path is not None:
        state_path.unlink(missing_ok=True)


def _read(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of the file from ``offset``, a chunk at a time: a part is streamed, not held."""
    with open(path, "rb") as f:
        f.seek(offset)
        while length > 0 and (chunk := f.read(min(_READ, length))):
            length -= len(chunk)
            yield chunk


def _resume(client: Client, base: str, state_path: Path | None) -> tuple[str | None, int, int]:
    """The upload a previous attempt began and how far the server has it; (None, 0, SMALL) if none."""
    from trackwell.transport._client import ServerError

    if state_path is None or not state_path.exists():
        return None, 0, SMALL
    try:
        state: dict[str, Any] = json.loads(state_path.read_text())
        upload_id = str(state["upload_id"])
        offset = int(client.request("GET", f"{base}/uploads/{upload_id}")["offset"])
    except (ValueError, KeyError, OSError):
        return None, 0, SMALL
    except ServerError as exc:
        if exc.status == 404:  # completed, aborted or swept by the server: begin anew
            return None, 0, SMALL
        raise
    return upload_id, offset, int(state.get("part") or SMALL)


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


@contextlib.contextmanager
def _reached(client: Client, httpx: Any, error: type[Exception]) -> Iterator[None]:
    """A connection failure as the transport's ``TransportError`` (as ``Client.request`` raises)."""
    try:
        yield
    except httpx.TransportError as exc:
        raise error(f"cannot reach the trackwell server at {client.base_url} ({type(exc).__name__}: {exc})") from exc


def download(client: Client, path: str, dest: Path, expected_digest: str | None = None) -> tuple[str, int]:
    """Stream ``GET path`` into ``dest`` (via a temporary file beside it, renamed when complete
    and verified); returns the bytes' (sha256, size)."""
    import httpx

    from trackwell.transport._client import ServerError, TransportError

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    sha, size = hashlib.sha256(), 0
    try:
        with _reached(client, httpx, TransportError), client.stream("GET", path) as response:
            if response.status_code >= 400:
                response.read()
                client.raise_for(response)
            with open(tmp, "wb") as out:
                for chunk in response.iter_bytes(_READ):
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        digest = sha.hexdigest()
        if expected_digest is not None and digest != expected_digest:
            raise ServerError(502, f"{path} arrived as sha256 {digest}, not the {expected_digest} the server "
                                   "listed: download it again")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return digest, size
