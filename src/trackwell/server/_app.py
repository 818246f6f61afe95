"""The ASGI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from trackwell import __version__
from trackwell.server import _errors
from trackwell.server._logging import RequestLog
from trackwell.server.ingest import Ingestor
from trackwell.server.routers import ALL

API_PREFIX = "/api/v1"


def create_app(db_url: str, metrics_path: str | Path) -> FastAPI:
    """The trackwell server: stores open (and the database migrates) when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ingestor = Ingestor.open(db_url, metrics_path)
        try:
            yield
        finally:
            app.state.ingestor.close()

    app = FastAPI(title="trackwell", version=__version__, lifespan=lifespan)
    for router in ALL:
        app.include_router(router, prefix=API_PREFIX)
    _errors.install(app)
    app.add_middleware(RequestLog)
    return app
