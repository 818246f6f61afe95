"""``init()`` and ``Run``: the wandb-shaped surface. ``log()`` is the hot path: a type check per
value, a copy and a deque append; the writer thread does the rest.

Lifecycle (docs/lifecycle.md): ``init`` resolves resume/rewind/fork (``resume.py``); the process
end becomes the exit code (``exits.py``); signals flush and finish (``signals.py``); a run
stopped through the API learns it from an upload's answer and exits like Ctrl-C.
"""

from __future__ import annotations

import _thread
import atexit
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from trackwell.schema import SUMMARY_MODES, RunStart
from trackwell.sdk import exits, signals
from trackwell.sdk.config import Config, Summary, as_dict
from trackwell.sdk.console import ConsoleCapture
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.journal import JournalHeader, JournalWriter, synced_path
from trackwell.sdk.resume import needs_server, plan, resolve_online
from trackwell.sdk.rundir import (
    clear_resume_id,
    create_run_dir,
    earlier_journals,
    generate_run_id,
    hold_writer_lock,
    release_writer_lock,
    write_resume_id,
)
from trackwell.sdk.settings import Settings, as_settings
from trackwell.sdk.values import PLAIN, RowNormalizer
from trackwell.sdk.writer import Writer

_time = time.time
_WAKE_AT = 4096  # queued log calls that wake the writer early: bounds memory in tight loops


class Run:
    """One tracked run. Use ``trackwell.init()`` to make one; it is also a context manager."""

    def __init__(self, settings: Settings, *, name: str | None = None, group: str | None = None,
                 job_type: str | None = None, tags: Any = None, notes: str | None = None,
                 config: Any = None) -> None:
        self.settings = settings
        self.start_time = _time()
        self._plan = plan(settings)  # a bad id or resume combination fails before anything is written
        self.id = self._plan.run_id
        self.entity = str(settings.entity)
        self.project = str(settings.project)
        self.group, self.job_type, self.notes = group, job_type, notes
        self._tags_given = tags is not None
        self.tags = tuple(str(t) for t in (tags or ()))
        self._name = name
        self._finished = False
        self._stopped = False  # the server said "killed"
        self.resumed = False  # continues a run that existed (online: known at init)
        self.starting_step = 0  # the first step this process logs to
        self._step = 0  # the step the next log() without step= writes to
        self._pending = False  # the writer holds an uncommitted row
        self._lower_step_warned = False
        self._normalize = RowNormalizer(bool(settings.strict))
        self._setup(as_dict(config))

    # -- setup / teardown -----------------------------------------------------------------

    def _setup(self, config: dict[str, Any]) -> None:
        s = self.settings
        offline = s.mode == "offline"
        p = self._plan
        if offline and needs_server(p):
            raise UsageError(f"{'fork_from' if p.fork else 'resume_from'} needs the server: it reads the "
                             "run's history there; use mode='online'")
        if not offline:
            self._resolve_online(config)
        summary: dict[str, Any] = {}
        runtime = 0.0
        if p.run:  # resumed, rewound or forked: carry the server's view of the run over
            self._adopt(p.run)
            config = {**(p.run.get("config") or {}), **config}  # new values win, old keys stay
            summary = dict(p.run.get("summary") or {})
            runtime = float(p.run.get("runtime") or 0.0)
        self.resumed, self.starting_step = p.resumed, p.starting_step
        self._step = p.starting_step
        started = self.start_time - runtime  # so _runtime continues where the run left off
        self._rundir = create_run_dir(s.dir, self.id, offline, self.start_time)
        self._lock = hold_writer_lock(self._rundir.journal)
        header = JournalHeader(version=1, writer=uuid.uuid4().hex, entity=self.entity,
                               project=self.project, run_id=self.id, created=self.start_time,
                               mode=str(s.mode))
        journal = JournalWriter(self._rundir.journal, header)
        self.config = Config(config, self._config_changed, bool(s.strict))
        self._client: Any = None
        self._uploader: Any = None
        if not offline:
            from trackwell.sdk.uploader import Uploader
            from trackwell.transport import Client

            self._client = Client(s.base_url, s.api_key)
            self._uploader = Uploader(self._rundir.journal, self._client, f"run {self.path}",
                                      on_state=self._on_state,
                                      heartbeat_interval=float(s.heartbeat_interval or 30.0))
        journal.append([RunStart(
            seq=1, ts=self.start_time, entity=self.entity, project=self.project, run_id=self.id,
            name=self._name, group=self.group, job_type=self.job_type, tags=list(self.tags),
            notes=self.notes, config=self.config.as_dict(), host=socket.gethostname(),
            program=sys.argv[0] if sys.argv and sys.argv[0] else None,
            python=sys.version.split()[0], resume=p.unresolved_mode)])
        on_written = self._uploader.wake if self._uploader is not None else None
        self._writer = Writer(journal, last_seq=1, started=started,
                              interval=float(s.flush_interval or 0.5), on_written=on_written,
                              summary_seed=summary)
        self._q: deque[tuple[Any, ...]] | None = self._writer.queue  # None once finished
        self.summary = Summary(self._writer.summary_view, self._sync_mirror, self._summary_changed,
                               bool(s.strict))
        self._writer.start()
        if self._uploader is not None:
            self._uploader.start()
        write_resume_id(s.dir, self.id, self.entity, self.project)
        if offline:
            self._say(f"offline run {self.id}: journaling to {self._rundir.root}")
        self._console: ConsoleCapture | None = None
        if s.console != "off":  # started last: our own init messages are not the run's output
            self._console = ConsoleCapture(self._console_lines)
            self._console.start()

    def _adopt(self, run: dict[str, Any]) -> None:
        """Fields not given to init() keep the server's values (W&B: tags and notes carry over)."""
        self._name = self._name or run.get("name")
        self.group = self.group if self.group is not None else run.get("group")
        self.job_type = self.job_type if self.job_type is not None else run.get("job_type")
        self.notes = self.notes if self.notes is not None else run.get("notes")
        if not self._tags_given:
            self.tags = tuple(run.get("tags") or ())

    def _resolve_online(self, config: dict[str, Any]) -> None:
        """Resolve resume/rewind/fork with the server and create a new run (for its display name).
        If the server cannot be reached the run still starts: the journal carries the resume
        choice and the server resolves it when the records arrive."""
        # httpx is imported only here: offline and disabled runs never pay for it
        from trackwell.transport import Client, ServerError, TransportError

        s, p = self.settings, self._plan
        fields: dict[str, Any] = {k: v for k, v in (("name", self._name), ("group", self.group),
                                    ("job_type", self.job_type), ("notes", self.notes)) if v is not None}
        if self._tags_given:
            fields["tags"] = list(self.tags)
        probe = Client(s.base_url, s.api_key, timeout=float(s.init_timeout or 5), max_attempts=1)
        try:
            if p.mode is not None or p.rewind_step is not None:
                self._deliver_earlier(probe)
            resolve_online(p, probe, (self.entity, self.project, self.id), {**fields, "config": config})
            if not p.run:  # a new run
                info = probe.request("PUT", probe.run_path(self.entity, self.project, self.id),
                                     json={**fields, "tags": list(self.tags), "config": config}, retry=False)
                self._name = self._name or (info.get("name") if isinstance(info, dict) else None)
                p.resolved = True
            name = self._name or p.run.get("name") or self.id
            how = ("forked" if p.fork else "rewound" if p.rewind_step is not None else "resumed") if p.run else "run"
            at = f" from step {p.starting_step}" if p.run else ""
            self._say(f"{how} {name}{at} at {self.url}")
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - httpx timeouts, refused connections, 5xx
            if needs_server(p):
                raise UsageError(f"{'fork_from' if p.fork else 'resume_from'} needs the server at {s.base_url}, "
                                 f"which cannot be reached ({type(exc).__name__}: {exc})") from None
            if not isinstance(exc, (TransportError, ServerError, OSError)):
                exc = TransportError(f"{type(exc).__name__}: {exc}")
            self._say(f"cannot reach the server at {s.base_url} ({exc}); journaling and uploading when it "
                      "answers" + ("; the server resolves resume= then" if p.mode else ""), problem=True)
        finally:
            probe.close()

    def _deliver_earlier(self, client: Any) -> None:
        """Before asking for the last step, deliver what earlier processes of this run left in this
        directory (e.g. killed before their uploader caught up): otherwise their steps would come
        after the resumed ones and collide."""
        from trackwell.sdk.sync import inspect, sync_journal

        for journal in earlier_journals(self.settings.dir, self.id):
            try:
                state = inspect(journal)
                if state.alive or (state.header.entity, state.header.project) != (self.entity, self.project):
                    continue
                sync_journal(state, client)
            except Exception as exc:  # noqa: BLE001 - the resume goes on; say how to fix it
                self._say(f"could not deliver {journal} of an earlier process of run {self.id} ({exc}); "
                          f"its steps may collide with this one's: `trackwell sync {journal.parent}`", problem=True)

    def finish(self, exit_code: int | None = None, quiet: bool = False) -> None:
        """Commit the open row, journal Exit, fsync, and wait (up to ``settings.finish_timeout``)
        for the server to acknowledge everything. The run ended cleanly: ``resume="auto"`` will
        not pick it up again."""
        self._finish(exit_code, quiet, clean=True)

    def _finish(self, exit_code: int | None, quiet: bool, clean: bool) -> None:
        if self._finished:
            return
        self._finished = True
        quiet = quiet or bool(self.settings.quiet)
        if self._console is not None:
            self._console.stop()
        q, self._q = self._q, None
        assert q is not None  # set until the first finish()
        q.append(("commit",))
        q.append(("exit", 0 if exit_code is None else int(exit_code), _time()))
        self._writer.close()
        last = self._writer.seq
        journal = self._rundir.journal
        try:
            if self._uploader is not None:
                # One budget for waiting and stopping: finish() never runs past finish_timeout.
                deadline = time.monotonic() + float(self.settings.finish_timeout or 0)
                done = self._uploader.wait_for(last, deadline - time.monotonic())
                self._uploader.stop(min(1.0, deadline - time.monotonic()))
                self._client.close()
                if done:
                    synced_path(journal).touch()
                    if not quiet:
                        self._say(f"run {self.name} finished: {self.url}")
                else:
                    left = last - self._uploader.acked
                    self._say(f"{left} of {last} records of run {self.id} are not on the server yet; "
                              f"`trackwell sync {self._rundir.root}` will deliver them", problem=True)
            elif not quiet:
                self._say(f"offline run {self.id} saved in {self._rundir.root}; "
                          f"upload it with `trackwell sync {self._rundir.root}`")
        finally:
            release_writer_lock(self._lock)
            if clean:
                clear_resume_id(self.settings.dir, self.id)
            _deactivate(self)

    def _flush(self) -> None:
        """Everything logged so far into the journal (a signal arrived; the process may die)."""
        if self._q is not None:
            self._writer.barrier()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        code = 0 if exc is None else exits.code_for(exc)
        self._finish(code, False, clean=code == 0)

    # -- the hot path ---------------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics. Without ``step``, each call is one row at ``_step`` (auto-increment);
        ``commit=False`` or ``step=`` merges into the current row (W&B semantics)."""
        q = self._q
        if q is None:
            raise UsageError(f"run {self.id} is finished; call trackwell.init() to start a new run")
        try:
            for k, v in data.items():
                if type(v) not in PLAIN or type(k) is not str:
                    row = self._normalize(data)
                    break
            else:
                row = dict(data)
        except AttributeError:
            row = self._normalize(data)  # not a mapping: raises a clear TypeError
        cur = self._step
        if step is None:
            s = cur
        else:
            s = step if type(step) is int else _as_step(step)
            if s < cur:
                self._ignore_lower_step(row, s, cur)
                return
        if commit is None:
            commit = step is None
        q.append((row, s, commit, _time()))
        if len(q) >= _WAKE_AT:
            self._writer.wake()
        pending = bool(row) or (self._pending and s == cur)
        if commit:
            self._step = s + 1 if pending else s
            self._pending = False
        else:
            self._step = s
            self._pending = pending

    def _ignore_lower_step(self, row: dict[str, Any], step: int, cur: int) -> None:
        if not self._lower_step_warned:
            self._lower_step_warned = True
            warn(
                f"trackwell: log(step={step}) for keys {sorted(row)} ignored: run {self.id} is "
                f"already at step {cur} and steps must increase. Further such calls are ignored "
                "without a warning.")

    # -- the rest of the API --------------------------------------------------------------

    def define_metric(self, name: str, summary: str | None = None, step_metric: str | None = None) -> None:
        """Set how ``name`` (or a glob like ``"val/*"``) is summarised: min/max/mean/last/none."""
        if summary is not None and summary not in SUMMARY_MODES:
            raise UsageError(f"define_metric({name!r}, summary={summary!r}): summary must be one "
                             f"of {', '.join(SUMMARY_MODES)}")
        self._enqueue(("metric", str(name), summary, step_metric, _time()))

    def mark_preempting(self) -> None:
        """Tell the server this run is about to be preempted (it will be resumed). Sent at once,
        ahead of queued uploads, and journaled too (offline runs, or if the call fails)."""
        self._enqueue(("preempting", _time()))
        if self._uploader is None:
            return
        from trackwell.transport import Client

        s = self.settings
        try:
            with Client(s.base_url, s.api_key, timeout=float(s.init_timeout or 5), max_attempts=1) as client:
                client.request("POST", client.run_path(self.entity, self.project, self.id) + "/preempting",
                               retry=False)
        except Exception:  # noqa: BLE001, S110 - the journaled record follows with the uploads
            pass

    def _on_state(self, state: str) -> None:
        """Called on the uploader thread with the run's state after each acknowledged upload."""
        if state != "killed" or self._stopped or self._finished:
            return
        self._stopped = exits.state.stopped = True
        print(f"trackwell: run {self.path} was stopped from the server (state: killed); finishing it and "
              "exiting", file=sys.stderr, flush=True)
        _thread.interrupt_main()  # a KeyboardInterrupt in the main thread: atexit finishes the run

    def journal_path(self) -> Path:
        return self._rundir.journal

    @property
    def name(self) -> str:
        return self._name or self.id

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)
        if self._uploader is not None:  # no record type for a rename: PUT it with the next upload
            self._uploader.pending_fields["name"] = self._name
            self._uploader.wake()

    @property
    def dir(self) -> str:
        """Where to put files that belong to the run (W&B's ``run.dir``)."""
        return str(self._rundir.files)

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def url(self) -> str:
        return f"{self.settings.base_url}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def mode(self) -> str:
        return str(self.settings.mode)

    @property
    def offline(self) -> bool:
        return self.settings.mode == "offline"

    @property
    def disabled(self) -> bool:
        return False

    @property
    def step(self) -> int:
        return self._step

    def __repr__(self) -> str:
        return f"<trackwell.Run {self.path} ({self.mode})>"

    # -- plumbing -------------------------------------------------------------------------

    def _enqueue(self, event: tuple[Any, ...]) -> None:
        q = self._q
        if q is None:
            raise UsageError(f"run {self.id} is finished; call trackwell.init() to start a new run")
        q.append(event)
        self._writer.wake()

    def _config_changed(self, changed: dict[str, Any]) -> None:
        self._enqueue(("config", changed, _time()))

    def _summary_changed(self, update: dict[str, Any], remove: list[str]) -> None:
        self._enqueue(("summary", update, remove, _time()))

    def _sync_mirror(self) -> None:
        if self._q or self._writer.draining:
            self._writer.barrier()

    def _console_lines(self, stream: str, lines: list[str]) -> None:
        q = self._q
        if q is not None:
            q.append(("console", stream, lines, _time()))

    def _say(self, message: str, problem: bool = False) -> None:
        if problem:
            warn(f"trackwell: {message}")
        elif not self.settings.quiet:
            print(f"trackwell: {message}", file=sys.stderr)


def _as_step(step: Any) -> int:
    try:
        return int(step.__index__())  # ints, numpy/torch integer scalars; never floats
    except (AttributeError, TypeError):
        raise TypeError(f"log(step={step!r}): step must be an integer") from None


class DisabledRun(Run):
    """mode="disabled": the same API, nothing recorded, nothing written."""

    def __init__(self, settings: Settings, *, name: str | None = None, config: Any = None,
                 **_ignored: Any) -> None:
        self.settings = settings
        self.start_time = _time()
        self.id = settings.run_id or generate_run_id()
        self.entity, self.project = str(settings.entity), str(settings.project)
        self.group = self.job_type = self.notes = None
        self.tags = ()
        self._name = name
        self._finished = False
        self._stopped = False
        self.resumed = False
        self.starting_step = 0
        self._step = 0
        self._uploader = None
        self._dir: str | None = None
        self.config = Config(as_dict(config), lambda _changed: None, False)
        mirror: dict[str, Any] = {}

        def apply(update: dict[str, Any], remove: list[str]) -> None:
            mirror.update(update)
            for key in remove:
                mirror.pop(key, None)

        self.summary = Summary(lambda: mirror, lambda: None, apply, False)

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        pass

    def define_metric(self, name: str, summary: str | None = None, step_metric: str | None = None) -> None:
        if summary is not None and summary not in SUMMARY_MODES:
            raise UsageError(f"define_metric({name!r}, summary={summary!r}): summary must be one "
                             f"of {', '.join(SUMMARY_MODES)}")

    def mark_preempting(self) -> None:
        pass

    def _finish(self, exit_code: int | None, quiet: bool, clean: bool) -> None:
        if not self._finished:
            self._finished = True
            _deactivate(self)

    def _flush(self) -> None:
        pass

    def journal_path(self) -> Path:
        raise UsageError("a disabled run has no journal")

    @property
    def dir(self) -> str:
        if self._dir is None:
            import tempfile

            self._dir = tempfile.mkdtemp(prefix="trackwell-disabled-")
        return self._dir

    @property
    def disabled(self) -> bool:
        return True


# -- module-level state (trackwell.run / config / summary) ---------------------------------

_current: Run | None = None
_live: list[Run] = []
_lock = threading.Lock()
_hooks_installed = False


def init(project: str | None = None, entity: str | None = None, name: str | None = None,
         id: str | None = None, group: str | None = None, job_type: str | None = None,
         tags: Any = None, notes: str | None = None, config: Any = None, dir: str | os.PathLike[str] | None = None,
         mode: str | None = None, reinit: bool = False, resume: str | bool | None = None,
         resume_from: str | None = None, fork_from: str | None = None,
         settings: Settings | dict[str, Any] | None = None) -> Run:
    """Start a run (W&B's ``wandb.init``). Sets ``trackwell.run``, ``.config`` and ``.summary``.

    ``resume`` ("must", "allow", "never", "auto"/True) continues the run ``id`` names (or, for
    "auto", the one in ``<dir>/trackwell/resume.json``); ``resume_from="<id>?_step=N"`` rewinds
    that run to step N; ``fork_from="<id>?_step=N"`` starts a new run branching from it at N.
    """
    global _current
    with _lock:
        active = _current
    if active is not None and not active._finished:
        if not reinit:
            warn(f"trackwell.init() called while run {active.id} is active; returning it. "
                          "Call finish() first or pass reinit=True to start a new run.")
            return active
        active.finish()
    s = as_settings(settings).resolve(project=project, entity=entity, mode=mode,
                                      dir=os.fspath(dir) if dir is not None else None, run_id=id,
                                      resume=resume, resume_from=resume_from, fork_from=fork_from)
    meta = dict(name=name, group=group, job_type=job_type, tags=tags, notes=notes, config=config)
    run = DisabledRun(s, **meta) if s.mode == "disabled" else Run(s, **meta)
    with _lock:
        _current = run
        _live.append(run)
    _install_hooks(s)
    _publish(run)
    return run


def _publish(run: Run | None) -> None:
    module = sys.modules.get("trackwell")
    if module is not None:
        module.run = run  # type: ignore[attr-defined]
        module.config = run.config if run is not None else None  # type: ignore[attr-defined]
        module.summary = run.summary if run is not None else None  # type: ignore[attr-defined]


def _deactivate(run: Run) -> None:
    global _current
    with _lock:
        if run in _live:
            _live.remove(run)
        if _current is not run:
            return
        _current = None
    _publish(None)


def _active(what: str) -> Run:
    run = _current
    if run is None:
        raise UsageError(f"call trackwell.init() before trackwell.{what}()")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
    _active("log").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool = False) -> None:
    run = _current
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def define_metric(name: str, summary: str | None = None, step_metric: str | None = None) -> None:
    _active("define_metric").define_metric(name, summary=summary, step_metric=step_metric)


def mark_preempting() -> None:
    _active("mark_preempting").mark_preempting()


def _install_hooks(s: Settings) -> None:
    """atexit finishes unfinished runs with the process's exit code; signals flush and finish."""
    global _hooks_installed
    if not _hooks_installed:
        _hooks_installed = True
        exits.install(_on_uncaught)
        atexit.register(_finish_all)
    if s.mode != "disabled":
        signals.install(tuple(s.signals), tuple(s.preempt_signals), _on_signal)


def _on_uncaught(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> bool:
    if exits.state.stopped and issubclass(tp, KeyboardInterrupt):
        print("trackwell: exiting: the run was stopped from the server", file=sys.stderr, flush=True)
        return True  # no traceback: this interrupt was ours
    lines = "".join(traceback.format_exception(tp, value, tb)).rstrip("\n").split("\n")
    for run in list(_live):
        if getattr(run, "_console", None) is None:  # capture off: still keep the traceback in the run's log
            run._console_lines("stderr", lines)
    return False


def _on_signal(signum: int, preempt: bool, ending: bool) -> None:
    for run in list(_live):
        try:
            if preempt:
                run.mark_preempting()
            if ending:  # the default action is next: finish now, the resume file stays for "auto"
                run._finish(128 + signum, False, clean=False)
            else:
                run._flush()
        except Exception as exc:  # noqa: BLE001 - in a signal handler: report and go on
            print(f"trackwell: could not finish run {run.id} on signal {signum}: {exc}", file=sys.stderr)


def _finish_all() -> None:
    code = exits.process_exit_code()
    for run in list(_live):
        try:
            run._finish(code, False, clean=code == 0)
        except Exception as exc:  # noqa: BLE001 - at exit, report and keep going
            print(f"trackwell: could not finish run {run.id}: {exc}", file=sys.stderr)
