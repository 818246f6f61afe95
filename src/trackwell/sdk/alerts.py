"""``run.alert()`` / ``trackwell.alert()`` (W&B's): a notification now, through the server, to
the project's ``run-alerts-<project>`` automation (the entity's default Slack or email channel
unless changed; docs/automations.md). Per title, at most one per ``wait_duration`` (default one
minute), checked here and on the server. Offline and disabled runs send nothing."""

from __future__ import annotations

import datetime as dt
import time
import warnings
from typing import TYPE_CHECKING

from trackwell.sdk.errors import TrackwellWarning, UsageError

if TYPE_CHECKING:
    from trackwell.sdk._base import RunBase

LEVELS = ("INFO", "WARN", "ERROR")
DEFAULT_WAIT = 60.0


def send_alert(run: RunBase, title: str, text: str, level: str | None = None,
               wait_duration: float | dt.timedelta | None = None) -> bool:
    """Whether the alert was sent (False: throttled, or the run is offline or disabled)."""
    if not isinstance(title, str) or not 0 < len(title) < 64:
        raise UsageError(f"alert title must be 1 to 63 characters, not {title!r}")
    chosen = str(getattr(level, "value", level) or "INFO").upper()
    if chosen not in LEVELS:
        raise UsageError(f"alert level must be one of {', '.join(LEVELS)}, not {level!r}")
    wait = wait_duration.total_seconds() if isinstance(wait_duration, dt.timedelta) else \
        DEFAULT_WAIT if wait_duration is None else float(wait_duration)
    if run.disabled or run.offline:
        warnings.warn(f"alert {title!r} not sent: the run is {run.mode}", TrackwellWarning, stacklevel=3)
        return False
    sent_at: dict[str, float] = run.__dict__.setdefault("_alerts_sent", {})
    now = time.monotonic()
    if title in sent_at and now - sent_at[title] < wait:
        return False
    from trackwell.transport import Client

    s = run.settings
    with Client(s.base_url, s.api_key, timeout=float(s.init_timeout or 10)) as client:
        answer = client.request("POST", client.run_path(run.entity, run.project, run.id) + "/alerts",
                                json={"title": title, "text": str(text), "level": chosen, "wait_duration": wait})
    sent_at[title] = now
    return bool(answer.get("sent"))
