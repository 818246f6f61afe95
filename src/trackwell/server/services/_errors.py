"""What the services raise, HTTP-agnostic: the routers answer each with its status."""

from __future__ import annotations

# a deleted run's id written to (HTTP 410): raised by the stores, answered by the routers
from trackwell.store.metadata import RunDeleted as RunDeleted


class RunNotFound(LookupError):
    """No run at entity/project/run id (HTTP 404)."""

    def __init__(self, entity: str, project: str, run_id: str) -> None:
        super().__init__(f"run {entity}/{project}/{run_id} not found; check the entity, project and run id")
        self.entity, self.project, self.run_id = entity, project, run_id


class MetricNotFound(LookupError):
    """The run has no history under ``key`` (HTTP 404); ``keys`` are the ones it has, sorted."""

    def __init__(self, path: str, key: str, keys: list[str]) -> None:
        super().__init__(f"run {path} has no metric {key!r}")
        self.path, self.key, self.keys = path, key, keys


class Conflict(Exception):
    """The run's state or its forks do not allow the operation (HTTP 409); the message says why."""


class InvalidQuery(ValueError):
    """A runs query that cannot be answered as asked (HTTP 400); the message names the problem."""


class NotFound(LookupError):
    """No such user, team, key or project, or none the caller may see (HTTP 404)."""


class Forbidden(PermissionError):
    """The caller may see it but not do this (HTTP 403); the message says who may."""


class Unauthenticated(Exception):
    """No identity, or one that no longer holds: unknown, revoked or expired key (HTTP 401)."""
