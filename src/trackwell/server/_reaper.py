"""The crash reaper: runs not heard from (records or heartbeats) for the crash timeout are marked
crashed (preempting ones preempted), with an outbox event in the same transaction."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool

from trackwell.server.services import LifecycleService

DEFAULT_CRASH_TIMEOUT = 300.0
log = logging.getLogger("trackwell.reaper")


def reap_interval(crash_timeout: float) -> float:
    # a quarter of the timeout: a crash is seen at most 25% late, and idle servers stay quiet
    return max(0.1, min(crash_timeout / 4, 30.0))


async def reap_forever(lifecycle: LifecycleService, crash_timeout: float) -> None:
    while True:
        await asyncio.sleep(reap_interval(crash_timeout))
        try:
            pks = await run_in_threadpool(lifecycle.reap, time.time() - crash_timeout)
        except Exception:  # a database hiccup must not end the reaper
            log.exception("crash reaper pass failed; retrying")
            continue
        if pks:
            log.info("marked %d silent run(s) crashed/preempted: pks %s", len(pks), pks[:20])
