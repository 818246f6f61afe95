"""``Run``: a run that records. ``log()`` is the hot path: a type check per value, a copy, and
under one lock the step arithmetic and a deque append (so the queue's order is the steps' order,
whatever thread logs); the writer thread does the rest. A caller that logs faster than the writer
keeps up (a tight loop of log() calls and nothing else) waits for it at ``_MAX_QUEUED`` rows, so
the queue's memory, and what ``finish()`` has left to write, stay bounded.

Lifecycle (docs/lifecycle.md): ``init`` (start.py) resolves resume/rewind/fork (``resume.py``,
``_online.py``); the process end becomes the exit code (``exits.py``); signals flush and finish
within ``signal_grace`` and a forked child is refused (``_state.py``); a run stopped through the
API learns it from an upload's answer and exits like Ctrl-C.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwell.schema import RunStart
from trackwell.sdk import _state, exits
from trackwell.sdk import events as ev
from trackwell.sdk._base import RunBase
from trackwell.sdk._online import start_online
from trackwell.sdk.artifacts._run_hooks import RunArtifacts
from trackwell.sdk.config import Config, Summary, as_dict
from trackwell.sdk.console import ConsoleCapture
from trackwell.sdk.errors import UsageError, warn
from trackwell.sdk.files import RunFiles, pending
from trackwell.sdk.journal import JournalHeader, JournalWriter, synced_path
from trackwell.sdk.resume import hostname, needs_server, plan, predecessors, shared_label
from trackwell.sdk.rundir import (
    clear_resume_id,
    create_run_dir,
    hold_writer_lock,
    release_writer_lock,
    write_resume_id,
)
from trackwell.sdk.settings import Settings
from trackwell.sdk.system import SystemMonitor
from trackwell.sdk.values import PLAIN, RowNormalizer, as_step, past_the_end
from trackwell.sdk.writer import Writer

if TYPE_CHECKING:
    from trackwell.sdk.uploader import Uploader

_time = time.time
_monotonic = time.monotonic
# Small batches: the rows are still in the CPU's cache when the writer takes them, and fewer of
# them live long enough for the GC to scan (a tight loop: ~2.9 -> ~2.4 us CPU per row vs 4k/16k).
_WAKE_AT = 1024  # queued log calls that wake the writer early
_MAX_QUEUED = 4096  # queued log calls at which log() waits for the writer (~3 MB of 10-float rows)
_STEP_END = 2**62 + 1  # the server accepts steps up to 2**62 (headroom for bucket arithmetic in int64)


class Run(RunArtifacts, RunBase):
    """One tracked run. Use ``trackwell.init()`` to make one; it is also a context manager."""

    def __init__(self, settings: Settings, *, name: str | None = None, group: str | None = None,
                 job_type: str | None = None, tags: Any = None, notes: str | None = None,
                 config: Any = None) -> None:
        self._plan = plan(settings)  # a bad id or resume combination fails before anything is written
        super().__init__(settings, self._plan.run_id, name=name, group=group, job_type=job_type,
                         tags=tags, notes=notes)
        self._step_lock = threading.RLock()  # re-entrant: a signal handler may finish mid-log()
        self._stopped = False  # the server said "killed"
        self._pending = False  # the writer holds an uncommitted row
        self._lower_step_warned = False
        self._forked_from: int | None = None  # in a forked child: the parent's pid
        self._fork_warned = False
        self._normalize = RowNormalizer(bool(settings.strict))
        self._keys: set[str] = set()  # keys log() has seen: their type is checked once
        self._setup(as_dict(config))

    # -- setup / teardown -----------------------------------------------------------------

    def _setup(self, config: dict[str, Any]) -> None:
        s = self.settings
        offline = s.mode == "offline"
        p = self._plan
        if offline and needs_server(p):
            raise UsageError(f"{'fork_from' if p.fork else 'resume_from'} needs the server: it reads the "
                             "run's history there; use mode='online'")
        self._writer_id = uuid.uuid4().hex
        # Earlier processes of this run found dead on this disk: ordered before this one.
        self._after = predecessors(s.dir, self.id, self.entity, self.project) if p.mode is not None else {}
        reached = offline or start_online(self, p, config, self._writer_claim())
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
        self._lock_fd = hold_writer_lock(self._rundir.journal)
        header = JournalHeader(version=1, writer=self._writer_id, entity=self.entity,
                               project=self.project, run_id=self.id, created=self.start_time,
                               mode=str(s.mode))
        journal = JournalWriter(self._rundir.journal, header, fsync_interval=float(s.fsync_interval or 1.0))
        self.config = Config(config, self._config_changed, bool(s.strict), bool(s.allow_val_change))
        self._uploader: Uploader | None = None
        if not offline:
            from trackwell.sdk.sinks import HttpSink
            from trackwell.sdk.uploader import Uploader

            self._uploader = Uploader(self._rundir.journal, HttpSink.connect(s.base_url, s.api_key),
                                      f"run {self.path}", on_state=self._on_state,
                                      heartbeat_interval=float(s.heartbeat_interval or 30.0))
            if not reached:  # init's request just failed: the uploader starts out probing, not retrying
                self._uploader.breaker.failure()
        journal.append([RunStart(
            seq=1, ts=self.start_time, entity=self.entity, project=self.project, run_id=self.id,
            name=self._name, group=self.group, job_type=self.job_type, tags=list(self.tags),
            notes=self.notes, config=self.config.as_dict(), host=hostname(),
            program=sys.argv[0] if sys.argv and sys.argv[0] else None,
            python=sys.version.split()[0], resume=p.unresolved_mode, **self._writer_fields())])
        on_written = self._uploader.wake if self._uploader is not None else None
        self._writer = Writer(journal, last_seq=1, started=started,
                              interval=float(s.flush_interval or 0.5), on_written=on_written,
                              summary_seed=summary)
        self._q: deque[ev.Event] | None = self._writer.queue  # None once finished
        self.summary = Summary(self._writer.summary_view, self._sync_mirror, self._summary_changed,
                               bool(s.strict))
        self._writer.start()
        if self._uploader is not None:
            self._uploader.start()
        self._files = RunFiles(self, self._rundir, None if offline else (s.base_url, s.api_key))
        write_resume_id(s.dir, self.id, self.entity, self.project)
        if offline:
            self._say(f"offline run {self.id}: journaling to {self._rundir.root}")
        self._console: ConsoleCapture | None = None
        if s.console != "off":  # started last: our own init messages are not the run's output
            self._console = ConsoleCapture(self._console_lines, str(s.console), self._writer.make_room)
            self._console.start()
        self._system = SystemMonitor.start(s, self._writer.queue.append, started, self._rundir.files)

    def _writer_fields(self) -> dict[str, Any]:
        """Who writes (RunStart and the writer claim carry it): the server's lease messages name it."""
        s = self.settings
        shared = s.mode == "shared"
        return {"pid": os.getpid(), "label": shared_label(s) if shared else s.label, "shared": shared,
                "primary": s.primary, "after": dict(self._after)}

    def _writer_claim(self) -> dict[str, Any]:
        return {"writer": self._writer_id, "host": hostname(), **self._writer_fields()}

    def _adopt(self, run: dict[str, Any]) -> None:
        """Fields not given to init() keep the server's values (W&B: tags and notes carry over)."""
        self._name = self._name or run.get("name")
        for field in ("group", "job_type", "notes"):
            if self._fields[field] is None:
                self._fields[field] = run.get(field)
        if not self._tags_given:
            self._fields["tags"] = tuple(run.get("tags") or ())

    def _finish(self, exit_code: int | None, quiet: bool, clean: bool, deadline: float | None = None) -> None:
        with self._step_lock:
            if self._finished:
                return
            self._finished = True
        quiet = quiet or bool(self.settings.quiet)
        if self._system is not None:
            self._system.stop()
        if self._console is not None:
            self._console.stop()
        self._files.finish()  # the files under run.dir, journaled before the Exit
        with self._step_lock:
            q, self._q = self._q, None
        assert q is not None  # set until the first finish()
        q.append(ev.Commit())
        code = exits.recorded_exit_code(exit_code)
        q.append(ev.Exited(code, _time()))
        # The journal first, always; then the server, within finish_timeout or a signal's grace.
        end = deadline if deadline is not None else _monotonic() + float(self.settings.finish_timeout or 0)
        self._settle_artifacts(end)  # log_artifact's uploads, within the same time
        journaled = self._writer.close(60.0 if deadline is None else deadline - _monotonic())
        last = self._writer.seq
        try:
            lost = self._journal_problems(journaled)
            ended = exits.ended_as(code)
            if self._uploader is not None:
                done, unreachable = self._uploader.delivered(last, end)
                if not unreachable:  # run files go the same way the records went
                    done = self._files.upload(end - _monotonic()) and done
                self._uploader.stop(min(1.0, end - _monotonic()))
                self._uploader.sink.close()
                if done:
                    synced_path(self._rundir.journal).touch()
                    if not quiet and not lost:
                        self._say(f"run {self.name} {ended}: {self.url}", problem=code != 0)
                else:
                    left = last - self._uploader.acked
                    files = len(pending(self._rundir.root))
                    why = (f" (the signal's grace of {self.settings.signal_grace} s ran out)" if deadline is not None
                           else f" (the server at {self.settings.base_url} cannot be reached)" if unreachable else "")
                    self._say(f"run {self.id} {ended}; {left} of {last} records{f' and {files} files' if files else ''} "
                              f"are not on the server yet{why}. They are safe in {self._rundir.root}: "
                              f"`trackwell sync {self._rundir.root}` delivers them", problem=True)
            elif not quiet and not lost:
                self._say(f"offline run {self.id} {ended}, saved in {self._rundir.root}; "
                          f"upload it with `trackwell sync {self._rundir.root}`", problem=code != 0)
        finally:
            release_writer_lock(self._lock_fd)
            if clean:
                clear_resume_id(self.settings.dir, self.id)
            _state.deactivate(self)

    def _journal_problems(self, journaled: bool) -> bool:
        """Say what did not reach the journal; True if anything did not."""
        w = self._writer
        if w.failed is not None:
            self._say(f"the journal writer of run {self.id} stopped early ({w.failed}): what was logged "
                      "after that is lost", lost=True)
        elif not journaled:
            self._say(f"the journal writer of run {self.id} did not finish in time: the last records may "
                      f"be missing from {self._rundir.journal}", lost=True)
        if w.lost:
            self._say(f"{w.lost} records of run {self.id} could not be journaled and are lost (see the "
                      "warnings above); the journal holds a Skipped placeholder for each", lost=True)
        return w.failed is not None or not journaled or bool(w.lost)

    def _flush(self, deadline: float) -> None:
        """Everything logged so far into the journal (a signal arrived; the process may die)."""
        if self._q is not None:
            self._writer.barrier(deadline - _monotonic())

    def _orphan(self, parent_pid: int) -> None:
        self._step_lock = threading.RLock()  # a parent's thread may have held it at fork time
        self._forked_from = parent_pid
        self._finished = True  # finish() and atexit leave the parent's run alone; init() starts anew
        self._q = None
        self._console = None  # its tee stays in sys.stdout and passes output through unrecorded
        if self._lock_fd is not None:
            # Only the child's copy: a flock lives until its last descriptor closes, so the
            # parent keeps the lock, and the lock is free as soon as the parent is gone.
            os.close(self._lock_fd)
            self._lock_fd = None

    def _refused(self) -> None:
        """A recording call on a run that cannot record: finished, or the parent's (after fork)."""
        if self._forked_from is None:
            raise UsageError(f"run {self.id} is finished; call trackwell.init() to start a new run")
        if not self._fork_warned:
            self._fork_warned = True
            warn(f"trackwell: run {self.id} belongs to the parent process pid {self._forked_from}; this "
                 "forked child's calls are not recorded; call trackwell.init() in the child "
                 "(settings mode='shared' to write to the same run)")

    # -- the hot path ---------------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None) -> None:
        """Record metrics. Without ``step``, each call is one row at ``_step`` (auto-increment);
        ``commit=False`` or ``step=`` merges into the current row (W&B semantics). Safe to call
        from several threads: each call gets its own step, in the order the calls were made."""
        if type(data) is dict:
            row = data.copy()
            for v in row.values():
                if type(v) is not float and type(v) not in PLAIN:  # floats first: the usual value
                    row = self._normalize(data)
                    break
            else:
                if not self._keys.issuperset(row):  # keys seen before are str: not checked again
                    row = self._new_keys(data, row)
        else:
            row = self._normalize(data)  # other mappings; not a mapping: raises a clear TypeError
        with self._step_lock:
            q = self._q
            if q is None:
                return self._refused()
            if step is None and commit is None:  # one call, one row: the common case
                s = self._step
                if s >= _STEP_END:
                    raise past_the_end(self.id, row, s)
                q.append((row, s, _time()) if row else (row, s, True, _time()))
                if row or self._pending:
                    self._step = s + 1
                    self._pending = False
            else:
                self._log_at(q, row, step, commit)
        n = len(q)
        if n >= _WAKE_AT:
            self._writer.wake()
            if n >= _MAX_QUEUED:
                self._writer.make_room(_MAX_QUEUED)

    def _new_keys(self, data: dict[Any, Any], row: dict[Any, Any]) -> dict[str, Any]:
        if all(type(k) is str for k in row):
            self._keys.update(row)
            return row
        return self._normalize(data)

    def _log_at(self, q: deque[ev.Event], row: dict[str, Any], step: Any, commit: bool | None) -> None:
        """``log()`` with ``step=`` or ``commit=``: merging into the open row. Under the step lock."""
        cur = self._step
        if step is None:
            s = cur
        else:
            s = step if type(step) is int else as_step(step)
            if s < cur:
                return self._ignore_lower_step(row, s, cur)
        if s >= _STEP_END:
            raise past_the_end(self.id, row, s)
        if commit is None:
            commit = step is None
        q.append((row, s, commit, _time()))
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

    def _define_metric(self, definition: ev.MetricDefinition) -> None:
        self._enqueue(definition)

    def _mark_preempting(self, deadline: float | None) -> None:
        """Sent at once, ahead of queued uploads, and journaled too (offline runs, or if the call
        fails). In a signal handler the request gets a quarter of what is left of the grace."""
        if not self._enqueue(ev.PreemptingNow(_time())) or self._uploader is None:
            return
        from trackwell.transport import Client

        s = self.settings
        timeout = float(s.init_timeout or 5)
        if deadline is not None:
            timeout = min(timeout, max(0.1, (deadline - _monotonic()) / 4))
        try:
            with Client(s.base_url, s.api_key, timeout=timeout, max_attempts=1) as client:
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

    def _fields_changed(self, fields: dict[str, Any]) -> None:
        self._enqueue(ev.FieldsChange(fields, _time()))  # after RunStart: the server applies it last

    @property
    def dir(self) -> str:
        return str(self._rundir.files)

    def _save(self, glob_str: Any, base_path: Any, policy: str) -> list[str]:
        return self._files.save(glob_str, base_path, policy)

    # -- plumbing -------------------------------------------------------------------------

    def _enqueue(self, event: ev.Event) -> bool:
        """Queue a non-log event; False if the run cannot record (an orphan after fork)."""
        with self._step_lock:  # so nothing lands behind finish()'s Exit
            q = self._q
            if q is None:
                self._refused()
                return False
            q.append(event)
        self._writer.wake()
        return True

    def _config_changed(self, changed: dict[str, Any]) -> None:
        self._enqueue(ev.ConfigChange(changed, _time()))

    def _summary_changed(self, update: dict[str, Any], remove: list[str]) -> None:
        self._enqueue(ev.SummaryChange(update, remove, _time()))

    def _sync_mirror(self) -> None:
        if self._q or self._writer.draining:
            self._writer.barrier()

    def _console_lines(self, stream: str, lines: list[str]) -> None:
        q = self._q
        if q is not None:
            q.append(ev.ConsoleLines(stream, lines, _time()))

    def _record_traceback(self, lines: list[str]) -> None:
        if self._console is None:  # capture off: still keep the traceback in the run's log
            self._console_lines("stderr", lines)

