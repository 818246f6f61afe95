"""REST API v1 routers, one per concern."""

from trackwell.server.routers import (
       accounts,
       auth,
       console,
       files,
       health,
       history,
       lifecycle,
       records,
       runs,
       sweeps,
       workspace,
)

ALL = (health.router, auth.router, accounts.router, runs.router, records.router, lifecycle.router, history.router,
       console.router, workspace.router, files.router, sweeps.router)

__all__ = ["ALL"]
