"""The retention task: ingest bookkeeping events (``metrics_applied``) older than
``TRACKWELL_EVENT_RETENTION_DAYS`` are deleted hourly; lifecycle events stay."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from trackwell.store.metadata import EventStore
from trackwell.store.metadata._outputs import EVENT_RETENTION_DAYS

log = logging.getLogger("trackwell.server.retention")
PRUNE_INTERVAL = 3600.0


async def prune_events_forever(events: EventStore, every: float = PRUNE_INTERVAL,
                               days: float = EVENT_RETENTION_DAYS) -> None:
    while True:
        try:
            pruned = await run_in_threadpool(events.prune_events, time.time() - days * 86_400)
            if pruned:
                log.info("pruned %d ingest events older than %g days", pruned, days)
        except Exception:  # a store hiccup must not end the task: the next hour tries again
            log.exception("pruning old events failed; retried in an hour")
        await asyncio.sleep(every)
