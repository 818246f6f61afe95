"""Run states and their transitions (see docs/lifecycle.md for the diagram).

``running`` -> ``finished`` (exit 0) | ``failed`` (non-zero) | ``crashed`` (no heartbeat for the
crash timeout; back to ``running`` when the run sends again) | ``preempting`` -> ``preempted``
(a non-zero exit, or silence) | ``killed`` (stopped through the API; its later exit keeps it).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

RUNNING, FINISHED, FAILED, CRASHED = "running", "finished", "failed", "crashed"
PREEMPTING, PREEMPTED, KILLED = "preempting", "preempted", "killed"
STATES = (RUNNING, FINISHED, FAILED, CRASHED, PREEMPTING, PREEMPTED, KILLED)
ACTIVE = (RUNNING, PREEMPTING, CRASHED)  # a process may still be writing: these can be stopped


class LifecycleError(ValueError):
    """A state change the run's current state does not allow (HTTP 409); the message says why."""


def for_update(query: sa.Select[Any], conn: sa.Connection) -> sa.Select[Any]:
    """Lock the run row on PostgreSQL: a stop or the reaper must not be overwritten by an ingest
    that read the row before them (SQLite writers already take turns)."""
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


def exit_state(state: str, exit_code: int) -> tuple[str, str | None]:
    """The state after an Exit record, and the event to announce (None: nothing new)."""
    if state == KILLED:
        return KILLED, None  # the stop was announced when it happened
    if state == PREEMPTING and exit_code != 0:
        return PREEMPTED, "run_preempted"
    return (FINISHED, "run_finished") if exit_code == 0 else (FAILED, "run_failed")


def silent_state(state: str) -> tuple[str, str]:
    """What the crash reaper makes of an active run that stopped sending."""
    return (PREEMPTED, "run_preempted") if state == PREEMPTING else (CRASHED, "run_crashed")
