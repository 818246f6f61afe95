"""REST API v1 routers, one per concern."""

from trackwell.server.routers import (
       accounts,
       auth,
       console,
       health,
       history,
       lifecycle,
       records,
       runs,
       system,
       workspace,
)

ALL = (health.router, auth.router, accounts.router, runs.router, records.router, lifecycle.router, history.router,
       console.router, workspace.router, system.router)

__all__ = ["ALL"]
