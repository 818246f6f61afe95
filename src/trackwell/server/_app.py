"""The ASGI app factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI

from trackwell import __version__, _credentials
from trackwell.server import _errors, docs, ui, validation
from trackwell.server._admission import AdmitIngest, IngestAdmission
from trackwell.server._catchup import catch_up_forever
from trackwell.server._limits import DEFAULT_MAX_REQUEST_BYTES, BodyLimit
from trackwell.server._logging import RequestLog
from trackwell.server._reaper import DEFAULT_CRASH_TIMEOUT, reap_forever
from trackwell.server._retention import prune_events_forever
from trackwell.server.auth._ratelimit import FailureLimit
from trackwell.server.auth.guards import BrowserGuard, origin_of
from trackwell.server.auth.routes import check_every_route_is_authorized
from trackwell.server.automations import AutomationSettings, Dispatcher, RetryPolicy
from trackwell.server.blobs import open_blob_store
from trackwell.server.leases import DEFAULT_LEASE_TIMEOUT
from trackwell.server.routers import ALL, _deps
from trackwell.server.services import Services
from trackwell.server.services.automations import AutomationsService
from trackwell.server.services.bootstrap import announce, bootstrap, reuse_local_login
from trackwell.server.services.sweeps import DEFAULT_AGENT_TIMEOUT, DEFAULT_MAX_AGENTS
from trackwell.store import open_stores

API_PREFIX = "/api/v1"


def create_app(db_url: str, metrics_path: str | Path, *,
               max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
               crash_timeout: float = DEFAULT_CRASH_TIMEOUT,
               lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
               max_keys_per_batch: int = validation.DEFAULT_MAX_KEYS_PER_BATCH,
               auth: str = "keys", public_url: str | None = None, allowed_hosts: Iterable[str] = (),
               cors_origins: Iterable[str] = (), auth_failures_per_minute: int = 30,
               bootstrap_urls: Iterable[str] = (), blob_store: str | Path | None = None,
               allow_private_webhooks: bool = False, max_sweep_agents: int = DEFAULT_MAX_AGENTS,
               sweep_agent_timeout: float = DEFAULT_AGENT_TIMEOUT) -> FastAPI:
    """The trackwell server: stores open (and the database migrates) when the app starts; a
    database without users gets its first admin, whose key goes to the credentials file for
    ``bootstrap_urls`` (see ``services.bootstrap``). ``auth="none"``: every request acts as that admin.
    ``blob_store``: a directory or ``s3://bucket/prefix`` for files and artifacts (default: ``blobs``
    beside the metrics file; an S3 store stages uploads in ``blob-staging`` there).
    ``allow_private_webhooks``: automations may send to loopback and private addresses (else refused: SSRF)."""
    validation.configure(validation.Limits(max_keys_per_batch=max_keys_per_batch))
    if auth not in ("keys", "none"):
        raise ValueError(f"auth must be 'keys' or 'none', not {auth!r}")
    urls = [u for u in (public_url, *bootstrap_urls) if u]
    data_dir = Path(metrics_path).parent

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # TRACKWELL_DEFER_PROJECTION=1 leaves projection to the catch-up task (diagnostics, and
        # the tests of the recovery path).
        inline = os.environ.get("TRACKWELL_DEFER_PROJECTION", "") not in ("1", "true")
        stores = open_stores(db_url, metrics_path)
        blobs = open_blob_store(blob_store or data_dir / "blobs", staging=data_dir / "blob-staging")
        services = app.state.services = Services.over(stores, lease_timeout=lease_timeout, project_inline=inline,
                                                      auth=auth, blobs=blobs, max_sweep_agents=max_sweep_agents,
                                                      sweep_agent_timeout=sweep_agent_timeout)
        made = bootstrap(stores.metadata, urls)
        if made is not None:
            logging.getLogger("trackwell.server").warning(announce(made))
        elif (user := reuse_local_login(stores.metadata, urls)) is not None:
            logging.getLogger("trackwell.server").info("saved %s's key from %s for %s", user, _credentials.path(),
                                                       ", ".join(urls))
        app.state.automations = AutomationsService(stores.metadata, stores.metadata, allow_private_webhooks)
        dispatcher = Dispatcher(stores.metadata, stores.metrics, AutomationSettings(
            public_url=urls[0] if urls else "http://127.0.0.1:8080", allow_private=allow_private_webhooks,
            policy=RetryPolicy.from_env()))
        tasks = [asyncio.create_task(reap_forever(services.lifecycle, crash_timeout)),
                 asyncio.create_task(dispatcher.run()),
                 asyncio.create_task(catch_up_forever(services.ingest)),
                 asyncio.create_task(prune_events_forever(stores.metadata))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            stores.close()
            blobs.close()

    # /docs is ours (server/docs.py: Swagger UI served from here, so it works offline); no /redoc,
    # which would load from a CDN
    app = FastAPI(title="trackwell", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    checked = [Depends(_deps.checked_path)]  # entity/project/run id in a path: text a database can hold
    for router in ALL:
        app.include_router(router, prefix=API_PREFIX, dependencies=checked)
    app.router.routes.extend(docs.routes())
    app.router.routes.extend(ui.routes())  # last: the page route answers every other path (see server/ui.py)
    check_every_route_is_authorized(app)
    app.state.max_request_bytes = max_request_bytes
    app.state.auth_failures = FailureLimit(auth_failures_per_minute)
    _errors.install(app)
    _deps.install(app)  # the services' errors
    # Admission inside BodyLimit: the body a 429 drains is still counted against the limit.
    admission = app.state.admission = IngestAdmission.from_env()
    app.add_middleware(AdmitIngest, admission=admission)
    # inside RequestLog, so a refused body is still logged with its retry id
    app.add_middleware(BodyLimit, max_bytes=max_request_bytes)
    app.add_middleware(BrowserGuard, allowed_hosts=[*(urlsplit(u).hostname or "" for u in urls), *allowed_hosts],
                       allowed_origins=[*cors_origins, *(origin_of(u) for u in urls)])
    cors = list(cors_origins)
    if cors:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(RequestLog)
    return app

