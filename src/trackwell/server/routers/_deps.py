"""Shared router helpers: the stores on ``app.state`` and run lookup."""

from __future__ import annotations

from fastapi import Request

from trackwell.server._errors import run_not_found
from trackwell.server.ingest import Ingestor
from trackwell.store.metadata import MetadataStore
from trackwell.store.metrics import MetricStore, Segment


def ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor  # type: ignore[no-any-return]


def metadata(request: Request) -> MetadataStore:
    return ingestor(request).metadata


def metrics(request: Request) -> MetricStore:
    return ingestor(request).metrics


def run_pk(request: Request, entity: str, project: str, run_id: str) -> int:
    pk = metadata(request).run_pk(entity, project, run_id)
    if pk is None:
        raise run_not_found(entity, project, run_id)
    return pk


def run_ref(request: Request, entity: str, project: str, run_id: str) -> list[Segment]:
    """What history reads go through: the run, and for a fork its ancestors up to the branch."""
    found = metadata(request).lineage(entity, project, run_id)
    if found is None:
        raise run_not_found(entity, project, run_id)
    return found[1]


def split_keys(keys: str | None) -> list[str] | None:
    """``keys=a,b`` -> ["a", "b"]; absent or empty means every key."""
    if not keys:
        return None
    return [k for k in (k.strip() for k in keys.split(",")) if k]
