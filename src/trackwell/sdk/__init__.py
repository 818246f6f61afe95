"""The client SDK: ``init``/``Run``, settings, the journal, the writer and uploader threads, sync.

Importing this package loads msgspec (the journal's encoding) but never httpx: the transport is
imported only when a run goes online or a journal is synced.
"""

from typing import TYPE_CHECKING, Any

from trackwell.sdk.config import Config, Summary
from trackwell.sdk.disabled import DisabledRun
from trackwell.sdk.errors import ConfigError, TrackwellWarning, UsageError
from trackwell.sdk.run import Run
from trackwell.sdk.settings import Settings
from trackwell.sdk.start import (
    alert,
    define_metric,
    finish,
    get_url,
    init,
    log,
    log_code,
    mark_preempting,
    save,
    unwatch,
    watch,
)
from trackwell.sdk.terminal import termerror, termlog, termwarn

if TYPE_CHECKING:
    from trackwell.sdk.delivery import DeliveryResult, deliver


def __getattr__(name: str) -> Any:
    # delivery (and the dead-letter file's imports) load on first use: an offline init() never needs them
    if name == "Artifact":
        from trackwell.sdk.artifacts import Artifact

        return Artifact
    if name in ("DeliveryResult", "deliver"):
        from trackwell.sdk import delivery

        return getattr(delivery, name)
    raise AttributeError(f"module 'trackwell.sdk' has no attribute {name!r}")

__all__ = [
    "Artifact",
    "Config",
    "ConfigError",
    "DeliveryResult",
    "DisabledRun",
    "Run",
    "Settings",
    "Summary",
    "TrackwellWarning",
    "UsageError",
    "alert",
    "define_metric",
    "deliver",
    "finish",
    "get_url",
    "init",
    "log",
    "log_code",
    "mark_preempting",
    "save",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "watch",
]
