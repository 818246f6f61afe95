"""REST API v1 routers, one per concern."""

from trackwell.server.routers import console, health, history, lifecycle, pages, records, runs

ALL = (health.router, runs.router, records.router, lifecycle.router, history.router, console.router)

__all__ = ["ALL", "pages"]
