"""The catch-up task: projects ingest-log entries that a crash or a store error left behind, so
an accepted batch reaches the stores even if its client never comes back."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from trackwell.server.services import IngestService

log = logging.getLogger("trackwell.server.catchup")
CATCH_UP_INTERVAL = 1.0


async def catch_up_forever(ingest: IngestService, interval: float = CATCH_UP_INTERVAL) -> None:
    waiting_before = 0
    while True:
        try:
            waiting = await run_in_threadpool(ingest.catch_up)
        except Exception:  # a store hiccup must not end the task: the log keeps everything
            log.exception("ingest catch-up pass failed; retrying")
        else:
            if waiting and waiting != waiting_before:
                log.info("%d ingest-log entries wait for an earlier process's records or a store", waiting)
            waiting_before = waiting
        await asyncio.sleep(interval)
