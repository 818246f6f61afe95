"""REST API v1 routers, one per concern."""

from trackwell.server.routers import (
       accounts,
       artifacts,
       auth,
       console,
       files,
       health,
       history,
       lifecycle,
       records,
       runs,
       workspace,
)

ALL = (health.router, auth.router, accounts.router, runs.router, records.router, lifecycle.router, history.router,
       console.router, workspace.router, files.router, artifacts.router)

__all__ = ["ALL"]
