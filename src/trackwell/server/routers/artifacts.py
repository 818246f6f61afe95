"""Artifacts (docs/artifacts.md): versions logged and read, aliases, registry links, usage and
lineage, downloads. Their bytes go in through the project's blob routes (``routers/files.py``). Every route is held to the path's project; the service checks any
other project an operation reaches (a link's source, a used artifact, lineage)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from trackwell.schema.artifacts import InvalidArtifact
from trackwell.server import validation
from trackwell.server._encoding import decode_body, request_body, respond
from trackwell.server._errors import ApiError
from trackwell.server.auth.dependencies import require
from trackwell.server.auth.policy import Action, Principal
from trackwell.server.routers import _deps
from trackwell.server.services.artifacts import (
    ArtifactConflict,
    ArtifactNotFound,
    ArtifactsService,
    LogBody,
    MissingBlobs,
)

router = APIRouter()
_READ = Depends(require(Action.RUN_READ))
_WRITE = Depends(require(Action.RUN_WRITE))
P = "/artifacts/{entity}/{project}"
V = P + "/{name}/{version}"
_CHUNK = 1 << 20


class AliasesBody(msgspec.Struct, forbid_unknown_fields=True):
    aliases: list[str]


class LinkBody(msgspec.Struct, forbid_unknown_fields=True):
    source: str  # entity/project/name:version
    aliases: list[str] = []


class UseBody(msgspec.Struct, forbid_unknown_fields=True):
    artifact: str  # [entity/][project/]name[:version|alias]


def _service(request: Request) -> ArtifactsService:
    service = _deps.services(request).artifacts
    if service is None:
        raise ApiError(503, "this server runs without a blob store: artifacts are unavailable")
    return service


def _answer(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The service's refusals as 4xx naming what was wrong."""
    try:
        return call(*args, **kwargs)
    except InvalidArtifact as exc:
        raise ApiError(422, str(exc), error="invalid_artifact") from None
    except ArtifactNotFound as exc:
        raise ApiError(404, str(exc), error="not_found") from None
    except MissingBlobs as exc:
        raise ApiError(409, str(exc), error="missing_blobs", missing=exc.digests[:1000]) from None
    except ArtifactConflict as exc:
        raise ApiError(409, str(exc), error="conflict") from None
    except KeyError as exc:  # BlobNotFound: the version names bytes the store lost
        raise ApiError(404, str(exc), error="not_found") from None


async def _in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(_answer, call, *args, **kwargs)


async def _body(request: Request, kind: type[Any], what: str) -> Any:
    try:
        return decode_body(request, await request.body() or b"{}", kind)
    except ValueError as exc:
        raise ApiError(422, f"invalid {what} body: {exc}", error="invalid_artifact") from None


# -- versions ------------------------------------------------------------------------------------

def _storable(body: LogBody) -> LogBody:
    """Text a database can hold (no NUL, no lone surrogate) and JSON-shaped metadata: 422 naming it."""
    try:
        if body.description is not None:
            validation.check_text(body.description, "description")
        validation.check_mapping(body.metadata, "metadata")
        if body.run_id is not None:
            validation.check_text(body.run_id, "run_id", validation.MAX_PATH_CHARS)
        for path, entry in body.manifest.items():
            validation.check_text(path, "entry path")
            validation.check_text(entry.digest, f"the digest of entry {path[:200]!r}")
            if entry.ref is not None:
                validation.check_text(entry.ref, f"the reference of entry {path[:200]!r}")
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid artifact: {exc}", error="invalid_artifact") from None
    return body


@router.post(P + "/versions", openapi_extra=request_body(LogBody))
async def log_version(request: Request, entity: str, project: str, who: Principal | None = _WRITE) -> Response:
    body = _storable(await _body(request, LogBody, "artifact"))
    version, created = await _in_thread(_service(request).log, entity, project, body, _deps.actor(who))
    return respond(request, {**version, "created": created})


@router.get(P, dependencies=[_READ])
def list_collections(request: Request, entity: str, project: str, type: str | None = None) -> Response:
    return respond(request, {"collections": _answer(_service(request).collections, entity, project, type)})


@router.get(P + "/{name}", dependencies=[_READ])
def list_versions(request: Request, entity: str, project: str, name: str, after: int = -1,
                  limit: int = 100) -> Response:
    return respond(request, _answer(_service(request).versions, entity, project, name, after, limit))


@router.delete(P + "/{name}")
async def delete_collection(request: Request, entity: str, project: str, name: str,
                            who: Principal | None = _WRITE) -> Response:
    """Every version of the collection (a registry collection: its links) and the collection."""
    return respond(request, await _in_thread(_service(request).delete_collection, entity, project, name,
                                             _deps.actor(who)))


@router.get(V, dependencies=[_READ])
def get_version(request: Request, entity: str, project: str, name: str, version: str) -> Response:
    return respond(request, _answer(_service(request).get, entity, project, name, version))


@router.get(V + "/file", dependencies=[_READ])
def download_file(request: Request, entity: str, project: str, name: str, version: str, path: str) -> Response:
    # ``path`` is a query parameter: an entry's path may be longer than a path segment may
    entry, stream = _answer(_service(request).file, entity, project, name, version, path)

    def body() -> Iterator[bytes]:
        with contextlib.closing(stream):
            while chunk := stream.read(_CHUNK):
                yield chunk

    return StreamingResponse(body(), media_type="application/octet-stream",
                             headers={"Content-Length": str(entry["size"]), "X-Trackwell-Digest": entry["digest"]})


@router.put(V + "/aliases", openapi_extra=request_body(AliasesBody))
async def set_aliases(request: Request, entity: str, project: str, name: str, version: str,
                      who: Principal | None = _WRITE) -> Response:
    body = await _body(request, AliasesBody, "aliases")
    return respond(request, await _in_thread(_service(request).set_aliases, entity, project, name, version,
                                             body.aliases, _deps.actor(who)))


@router.delete(V)
async def delete_version(request: Request, entity: str, project: str, name: str, version: str,
                         delete_aliases: bool = False, who: Principal | None = _WRITE) -> Response:
    return respond(request, await _in_thread(_service(request).delete, entity, project, name, version,
                                             delete_aliases, _deps.actor(who)))


# -- registry, usage, lineage ----------------------------------------------------------------------

@router.post(P + "/{name}/links", openapi_extra=request_body(LinkBody))
async def link_version(request: Request, entity: str, project: str, name: str,
                       who: Principal | None = _WRITE) -> Response:
    body = await _body(request, LinkBody, "link")
    return respond(request, await _in_thread(_service(request).link, entity, project, name, body.source,
                                             body.aliases, who))


@router.get(V + "/lineage", dependencies=[_READ])
def lineage(request: Request, entity: str, project: str, name: str, version: str, depth: int = 1) -> Response:
    who = request.state.principal
    return respond(request, _answer(_service(request).lineage, entity, project, name, version, depth, who))


@router.post("/runs/{entity}/{project}/{run_id}/artifacts/used", openapi_extra=request_body(UseBody))
async def use_artifact(request: Request, entity: str, project: str, run_id: str,
                       who: Principal | None = _WRITE) -> Response:
    body = await _body(request, UseBody, "use")
    return respond(request, await _in_thread(_service(request).use, entity, project, run_id, body.artifact, who))


@router.get("/runs/{entity}/{project}/{run_id}/artifacts", dependencies=[_READ])
def run_artifacts(request: Request, entity: str, project: str, run_id: str, direction: str = "logged") -> Response:
    who = request.state.principal
    found = _answer(_service(request).run_artifacts, entity, project, run_id, direction, who)
    return respond(request, {"artifacts": found})
