"""Shared router helpers: the stores on ``app.state``, run lookup, checked parameters."""

from __future__ import annotations

import json

from fastapi import Request

from trackwell.server import validation
from trackwell.server._errors import ApiError, run_not_found
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


# Query integers are bound (422 naming the parameter) before they reach a store: int64 columns.
INT64_MIN, INT64_MAX = validation.INT64_MIN, validation.INT64_MAX
MAX_SELECTED_KEYS = 10_000


def checked_path(request: Request) -> None:
    """Router dependency: entity, project and run id in the path are text a database can hold."""
    params = request.path_params
    try:
        for name, label in (("entity", "entity"), ("project", "project"), ("run_id", "run id")):
            if name in params:
                validation.check_text(params[name], label, validation.MAX_PATH_CHARS)
    except validation.InvalidValue as exc:
        raise ApiError(422, f"invalid run path: {exc}") from None


def split_keys(keys: list[str] | None) -> list[str] | None:
    """The ``keys`` query parameter: ``keys=a,b`` (one value, split at commas), ``keys=a&keys=b``
    (each value one key, commas kept) or ``keys=["a,b","c"]`` (a JSON array); absent: every key."""
    if not keys or not any(keys):
        return None
    verbatim = len(keys) > 1
    if not verbatim and keys[0].startswith("["):
        try:
            parsed = json.loads(keys[0])
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list) and all(isinstance(k, str) for k in parsed):
            keys, verbatim = parsed, True
    if not verbatim:
        keys = [k.strip() for k in keys[0].split(",")]
    selected = [k for k in keys if k]
    if len(selected) > MAX_SELECTED_KEYS:
        raise ApiError(422, f"keys names {len(selected)} keys, over the limit of {MAX_SELECTED_KEYS}; "
                            "select fewer keys, or leave keys out to get every key")
    return selected
