"""The route table with each route's policy requirement: what the start-up check and the
authorization matrix test walk (FastAPI keeps included routers nested; this flattens them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute

from trackwell.server.auth.dependencies import Requirement


@dataclass(frozen=True)
class RouteRule:
    methods: frozenset[str]
    path: str  # the full path, prefix included
    requirements: tuple[Requirement, ...]  # exactly one for every API route


def _flat(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router
            yield from _flat(route.effective_candidates())
        else:
            yield route


def route_rules(app: Any) -> list[RouteRule]:
    """Every API route (FastAPI's own docs pages excluded: they serve no data)."""
    rules = []
    for route in _flat(app.routes):
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute):
            continue
        found = tuple(d.call for d in original.dependant.dependencies if isinstance(d.call, Requirement))
        rules.append(RouteRule(frozenset(original.methods or ()), getattr(route, "path", original.path), found))
    return rules


def check_every_route_is_authorized(app: Any) -> None:
    """A route without exactly one requirement is a bug caught at start, not a hole."""
    for rule in route_rules(app):
        if len(rule.requirements) != 1:
            raise RuntimeError(f"route {sorted(rule.methods)} {rule.path} has {len(rule.requirements)} authorization "
                               "requirements; give it exactly one Depends(require(Action...))")
