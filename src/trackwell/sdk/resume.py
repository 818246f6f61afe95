"""Resolving ``resume=``, ``resume_from=`` and ``fork_from=`` at ``init()`` (see docs/lifecycle.md).

Online, the server is asked before the first log: does the run exist, what is its last step,
config, summary and runtime. Offline (or when the server cannot be reached), the choice is
journaled in ``RunStart.resume`` and the server resolves it when the journal is synced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trackwell.errors import AuthenticationError, PermissionDenied
from trackwell.sdk.errors import UsageError
from trackwell.sdk.rundir import earlier_journals, generate_run_id, read_resume_id, validate_run_id

if TYPE_CHECKING:
    from trackwell.sdk.settings import Settings
    from trackwell.transport import Client

_BRANCH = re.compile(r"(?P<id>[^?]+)\?_step=(?P<step>-?\d+)")


@dataclass
class Plan:
    """What ``init()`` does with the run id: start fresh, resume, rewind or fork."""

    run_id: str
    mode: str | None = None  # the resume mode, or "allow" for a given id (None: a fresh id)
    rewind_step: int | None = None  # resume_from
    fork: tuple[str, int] | None = None  # fork_from: (source run id, step)
    # filled once the server answered (``resolved``); otherwise journaled for the server
    resolved: bool = False
    resumed: bool = False
    starting_step: int = 0
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def unresolved_mode(self) -> str | None:
        """``RunStart.resume``: what the server must still decide when the journal arrives."""
        return None if self.resolved else self.mode


def parse_branch(value: str, what: str) -> tuple[str, int]:
    """``"abc123?_step=50"`` -> ("abc123", 50)."""
    m = _BRANCH.fullmatch(str(value).strip())
    if m is None:
        raise UsageError(f"{what}={value!r} must look like '<run id>?_step=<step>', e.g. 'abc12345?_step=100'")
    step = int(m["step"])
    if step < 0:
        raise UsageError(f"{what}={value!r}: the step must be >= 0")
    return validate_run_id(m["id"]), step


def plan(s: Settings) -> Plan:
    """Pick the run id and what to do with it, without asking the server yet."""
    if s.resume_from:
        run_id, step = parse_branch(str(s.resume_from), "resume_from")
        if s.run_id and s.run_id != run_id:
            raise UsageError(f"id={s.run_id!r} but resume_from={s.resume_from!r} rewinds run {run_id!r}; "
                             "leave id out (or make it the same run)")
        return Plan(run_id, mode="must", rewind_step=step)
    if s.fork_from:
        source, step = parse_branch(str(s.fork_from), "fork_from")
        return Plan(validate_run_id(s.run_id) if s.run_id else generate_run_id(), fork=(source, step))
    if s.run_id:
        return Plan(validate_run_id(s.run_id), mode=str(s.resume or "allow"))
    if s.resume == "must":
        raise UsageError("resume='must' needs the id of the run to resume: pass id= or set TRACKWELL_RUN_ID")
    if s.resume == "auto":
        previous = read_resume_id(s.dir)
        if previous is not None:  # the last run started from this directory did not end cleanly
            return Plan(previous, mode="auto")
    return Plan(generate_run_id())


def predecessors(base_dir: str | None, run_id: str, entity: str, project: str) -> dict[str, int]:
    """Earlier processes of this run whose journals lie in this directory, dead (their lock is
    free): {writer id: last seq}. Sent as ``RunStart.after`` and with the writer claim, so the
    server orders their records first and their leases do not block this process."""
    from trackwell.sdk.journal import JournalError
    from trackwell.sdk.sync import inspect

    found: dict[str, int] = {}
    for journal in earlier_journals(base_dir, run_id):
        try:
            state = inspect(journal)
        except (OSError, JournalError):
            continue  # unreadable: `trackwell sync` reports it; it cannot be ordered anyway
        if not state.alive and (state.header.entity, state.header.project) == (entity, project):
            found[state.header.writer] = state.last_seq
    return found


def shared_label(s: Settings) -> str:
    """A shared-mode writer's label: the setting, else the distributed rank, else host-pid."""
    import os

    if s.label:
        return str(s.label)
    rank = os.environ.get("RANK")
    return f"rank-{rank}" if rank is not None else f"{hostname()}-{os.getpid()}"


def hostname() -> str:
    """``socket.gethostname()`` without importing socket (~3 ms of init): the same on Linux and
    macOS, and socket's own answer on Windows; platform is loaded already (msgspec imports uuid)."""
    import platform

    return platform.node()


def claim_writer(client: Client, path: tuple[str, str, str], claim: dict[str, Any]) -> None:
    """Register this process's journal writer with the server: another live writer of the run is
    a ``UsageError`` naming it (the server's message says how to share a run)."""
    from trackwell.transport import ServerError

    try:
        client.request("POST", client.run_path(*path) + "/writers", json=claim, retry=False)
    except ServerError as exc:
        if exc.status == 409:
            raise UsageError(f"cannot start run {'/'.join(path)}: {exc.detail}") from None
        raise


def needs_server(p: Plan) -> bool:
    return p.rewind_step is not None or p.fork is not None


def resolve_online(p: Plan, client: Client, path: tuple[str, str, str], fields: dict[str, Any]) -> None:
    """Ask the server (raises UsageError for a resume the table refuses; transport errors pass)."""
    from trackwell.transport import ServerError

    entity, project, run_id = path
    base = client.run_path(entity, project, run_id)
    where = f"{entity}/{project}/{run_id}"
    try:
        if p.fork is not None:
            source, step = p.fork
            info = client.request("POST", base + "/fork", json={"source": source, "step": step, **fields},
                                  retry=False)
        elif p.rewind_step is not None:
            info = client.request("POST", base + "/rewind", json={"step": p.rewind_step}, retry=False)
        elif p.mode is not None:
            info = client.request("GET", base + "/resume", retry=False)
        else:
            return
    except ServerError as exc:
        if isinstance(exc, (AuthenticationError, PermissionDenied)):
            raise  # a refused key is the error to report, as it is
        if exc.status == 404 and p.fork is None and p.rewind_step is None:
            if p.mode == "must":
                raise UsageError(f"run {where} does not exist, so resume='must' cannot resume it; to start a new "
                                 "run with this id use resume='allow' (or leave resume out)") from None
            p.resolved = True  # a new run with the given id
            return
        what = "fork_from" if p.fork is not None else "resume_from" if p.rewind_step is not None else "resume"
        raise UsageError(f"{what} for run {where} failed: {exc.detail}") from None
    if p.mode == "never":
        raise UsageError(f"run {where} already exists and resume='never' does not resume it; resume it with "
                         "resume='allow' or 'must', or pick another id (leave id out for a generated one)")
    p.resolved = True
    p.resumed = p.fork is None  # a fork is a new run that starts after its branch step
    p.starting_step = int(info["next_step"])
    p.run = dict(info["run"])
