"""REST API v1 routers, one per concern."""

from trackwell.server.routers import (
       accounts,
       artifacts,
       auth,
       automations,
       console,
       files,
       health,
       history,
       lifecycle,
       records,
       runs,
       sweeps,
       system,
       workspace,
)

ALL = (health.router, auth.router, accounts.router, runs.router, records.router, lifecycle.router, history.router,
       console.router, workspace.router, files.router, automations.router, system.router, sweeps.router,
       artifacts.router)

__all__ = ["ALL"]
