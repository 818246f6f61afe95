"""The catch-up task: projects ingest-log entries that a crash or a store error left behind, so
an accepted batch reaches the stores even if its client never comes back, and those a saturated
server accepted without projecting (then it runs as soon as one is accepted, and back to back
while they keep coming)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.concurrency import run_in_threadpool

from trackwell.server.services import IngestService

log = logging.getLogger("trackwell.server.catchup")
CATCH_UP_INTERVAL = 1.0
BUSY_INTERVAL = 0.05  # while a saturated server defers projection to this task


async def catch_up_forever(ingest: IngestService, interval: float = CATCH_UP_INTERVAL) -> None:
    loop = asyncio.get_running_loop()
    deferred = asyncio.Event()
    # a request that accepts without projecting wakes the task at once (called from its thread)
    def wake() -> None:
        loop.call_soon_threadsafe(deferred.set)

    ingest.on_deferred = wake
    waiting_before = 0
    while True:
        deferred.clear()
        try:
            waiting = await run_in_threadpool(ingest.catch_up)
        except Exception:  # a store hiccup must not end the task: the log keeps everything
            log.exception("ingest catch-up pass failed; retrying")
        else:
            if waiting and waiting != waiting_before:
                log.info("%d ingest-log entries wait for an earlier process's records or a store", waiting)
            waiting_before = waiting
        if ingest.deferred:  # batches came in meanwhile: a short breath, then the next pass
            await asyncio.sleep(BUSY_INTERVAL)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deferred.wait(), interval)
