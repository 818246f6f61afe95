"""An online run's first contact with the server at ``init()``: resolve resume/rewind/fork
(``resume.py``), deliver what earlier processes of the run left on disk, create the run.

If the server cannot be reached the run still starts: the journal carries the resume choice and
the server resolves it when the records arrive. If it answers but refuses the key (401) or the
write (403), ``init()`` raises (``trackwell.errors``): journaling records no server would take
would only hide the problem until the run is over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trackwell.errors import AuthenticationError, PermissionDenied
from trackwell.sdk.errors import UsageError
from trackwell.sdk.resume import Plan, claim_writer, needs_server, resolve_online
from trackwell.sdk.rundir import earlier_journals

if TYPE_CHECKING:
    from trackwell.sdk._base import RunBase
    from trackwell.transport import Client


def start_online(run: RunBase, p: Plan, config: dict[str, Any], claim: dict[str, Any]) -> bool:
    """Resolve ``run``'s plan ``p`` with the server, create a new run (for its display name) and
    claim the run for this process's writer (``claim``: the writer claim's body). False when the
    server could not be reached (the run goes on journaling)."""
    # httpx is imported only here: offline and disabled runs never pay for it
    from trackwell.transport import Client, ServerError, TransportError

    s = run.settings
    fields: dict[str, Any] = {k: v for k, v in (("name", run._name), ("group", run.group),
                                ("job_type", run.job_type), ("notes", run.notes)) if v is not None}
    if run._tags_given:
        fields["tags"] = list(run.tags)
    probe = Client(s.base_url, s.api_key, timeout=float(s.init_timeout or 5), max_attempts=1)
    try:
        if p.mode is not None or p.rewind_step is not None:
            _deliver_earlier(run, probe)
        resolve_online(p, probe, (run.entity, run.project, run.id), {**fields, "config": config})
        if not p.run:  # a new run
            try:
                info = probe.request("PUT", probe.run_path(run.entity, run.project, run.id),
                                     json={**fields, "tags": list(run.tags), "config": config}, retry=False)
            except ServerError as exc:
                if exc.status == 404:  # not an outage: every upload would be refused the same way
                    raise UsageError(_not_writable(run, probe, exc.detail)) from None
                raise
            run._name = run._name or (info.get("name") if isinstance(info, dict) else None)
            p.resolved = True
        # One owner per step: refused here (not later in the uploader) if another process writes it.
        claim_writer(probe, (run.entity, run.project, run.id), claim)
        name = run._name or p.run.get("name") or run.id
        how = ("forked" if p.fork else "rewound" if p.rewind_step is not None else "resumed") if p.run else "run"
        at = f" from step {p.starting_step}" if p.run else ""
        run._say(f"{how} {name}{at} at {run.url}")
        return True
    except (AuthenticationError, PermissionDenied, UsageError):
        raise
    except Exception as exc:  # noqa: BLE001 - httpx timeouts, refused connections, 5xx
        if needs_server(p):
            raise UsageError(f"{'fork_from' if p.fork else 'resume_from'} needs the server at {s.base_url}, "
                             f"which cannot be reached ({type(exc).__name__}: {exc})") from None
        if not isinstance(exc, (TransportError, ServerError, OSError)):
            exc = TransportError(f"{type(exc).__name__}: {exc}")
        run._say(f"cannot reach the server at {s.base_url} ({exc}); journaling and uploading when it "
                 "answers" + ("; the server resolves resume= then" if p.mode else ""), problem=True)
        return False
    finally:
        probe.close()


def _not_writable(run: RunBase, client: Client, detail: object) -> str:
    # The server answers 404 alike for an entity that does not exist and one the caller may not
    # see; its detail says what to log to instead.
    who = f"the API key from {client.key_source}" if client.key_source else "no API key"
    return (f"cannot start run {run.path} on {client.base_url} with {who}: {detail} "
            "(`trackwell whoami` shows your entity and teams)")


def _deliver_earlier(run: RunBase, client: Client) -> None:
    """Before asking for the last step, deliver what earlier processes of this run left in this
    directory (e.g. killed before their uploader caught up): otherwise their steps would come
    after the resumed ones and collide."""
    from trackwell.sdk.sinks import HttpSink
    from trackwell.sdk.sync import inspect, sync_journal

    sink = HttpSink(client)  # not closed here: the client is the caller's

    for journal in earlier_journals(run.settings.dir, run.id):
        try:
            state = inspect(journal)
            if state.alive or (state.header.entity, state.header.project) != (run.entity, run.project):
                continue
            sync_journal(state, sink)
        except (AuthenticationError, PermissionDenied):
            raise  # init() fails with it: every other request would be refused too
        except Exception as exc:  # noqa: BLE001 - the resume goes on; say how to fix it
            run._say(f"could not deliver {journal} of an earlier process of run {run.id} ({exc}); "
                     f"its steps may collide with this one's: `trackwell sync {journal.parent}`", problem=True)
