"""Exactly-once under chaos, as a Hypothesis state machine, black-box: real SDK processes log
rows (random keys and steps, ``commit=False`` merges, explicit steps) through a real fault proxy
to a real server; each rule's requests meet faults drawn for them (5xx, 429, 413/422 that split
batches down to dead letters, resets, stalls, dropped answers, answers lost while the server
applies, acks lost for good); other rules kill -9 and restart the server (sometimes with a small
body limit, so the SDK shrinks its batches), kill -9 the logging process and resume the run in a
new one, and SIGKILL `trackwell sync` runs of offline journals. At the end of every example the
server's history equals what was logged: every row once, no extra, no missing; the only rows
allowed to be absent are those a killed process had not journaled yet (they are cut where the
next process of the run starts: the server's last step).

Bounded in CI (``TRACKWELL_CHAOS_EXAMPLES`` examples of ``TRACKWELL_CHAOS_STEPS`` steps per
store, 5 and 12 by default); set them higher for a longer run, ``TRACKWELL_CHAOS_SHRINK=1`` to
shrink a failure (slow: every replay restarts processes). The counts ran are printed (``-s``).
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_helpers import ChaosServer, SdkProcess, point_counts, sync
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from servers import get_run, http, scan_rows

EXAMPLES = int(os.environ.get("TRACKWELL_CHAOS_EXAMPLES", "5"))
STEPS = int(os.environ.get("TRACKWELL_CHAOS_STEPS", "12"))
SHRINK = os.environ.get("TRACKWELL_CHAOS_SHRINK") == "1"
KEYS = ("a", "b", "loss", "train/acc")  # numeric metrics; "s" carries strings
FAULTS = ("500", "502", "503", "429", "413", "422", "reset", "stall", "drop_response", "drop_response_late")
# Applied, then every other attempt of that request fails (TRACKWELL_RETRY_MAX_ATTEMPTS is 3):
# the client never learns it landed and later resends it inside a larger, overlapping batch.
LOST_ACKS = (("drop_response", "503", "503"), ("drop_response_late", "reset", "reset"))
# Refused down to one record (halving 1000 takes 10 refusals): it is dead-lettered, a placeholder
# keeps the seqs whole, and `trackwell sync --retry-dead-letters` delivers it at the end.
REFUSALS = (("413",) * 11, ("422",) * 11)
DEAD, QUEUED = "examples with dead letters", "faults queued"  # tallies besides the rules
SMALL_LIMIT = 16 * 1024  # a body limit that makes the SDK's default batches too large
Call = tuple[dict[str, Any], int | None, bool | None]


class RunModel:
    """What the server should hold for one run: W&B's row semantics (docs/architecture.md,
    "Steps"), and which process logged each row, so a kill -9 cuts only that process's tail."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.rows: dict[int, dict[str, Any]] = {}  # committed: step -> row
        self.writer_of: dict[int, int] = {}  # step -> generation (process) that logged it
        self.open: dict[str, Any] | None = None  # the uncommitted row at ``cur``
        self.cur = 0
        self.gen = 0

    def call(self, kind: str, jump: int, data: dict[str, Any]) -> Call:
        """One ``log()`` call described relative to the current step, as absolute arguments."""
        step = self.cur + jump if kind == "step" else None
        commit = {"plain": None, "merge": False, "commit": True, "step": None}[kind]
        self.log(data, step, commit)
        return data, step, commit

    def log(self, data: dict[str, Any], step: int | None, commit: bool | None) -> None:
        s = self.cur if step is None else step
        if commit is None:
            commit = step is None
        if s > self.cur and self.open is not None:  # a higher step commits the open row
            self._commit(self.cur, self.open)
        row = self.open if self.open is not None and s == self.cur else {}
        row.update(data)
        self.open = None
        if commit:
            self._commit(s, row)
            self.cur = s + 1
        else:
            self.open, self.cur = row, s

    def _commit(self, step: int, row: dict[str, Any]) -> None:
        self.rows[step], self.writer_of[step] = row, self.gen
        self.open = None

    def finished(self) -> None:
        if self.open is not None:
            self._commit(self.cur, self.open)

    def killed(self) -> None:
        self.open = None  # never journaled

    def resumed(self, start: int) -> None:
        """A new process starts at the server's last step + 1: the killed one's rows from there
        on were lost with it (not yet journaled); none of an earlier process's may be missing."""
        lost = [s for s in self.rows if s >= start]
        assert all(self.writer_of[s] == self.gen for s in lost), \
            f"run {self.run_id}: resumed at step {start}, before rows of earlier processes: {lost}"
        assert start <= self.cur, f"run {self.run_id}: resumed at step {start}, past every logged step ({self.cur})"
        for s in lost:
            del self.rows[s], self.writer_of[s]
        self.gen += 1
        self.cur, self.open = start, None


def _values() -> st.SearchStrategy[Any]:
    return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53))


_DATA = st.dictionaries(st.sampled_from(KEYS), _values(), min_size=1, max_size=3) | st.fixed_dictionaries(
    {"loss": _values(), "s": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)})
_FAULTS = st.lists(st.sampled_from(FAULTS), max_size=4) | st.sampled_from(LOST_ACKS + REFUSALS).map(list)
_CALLS = st.lists(st.tuples(st.sampled_from(["plain", "plain", "merge", "commit", "step"]),
                            st.integers(0, 3), _DATA), min_size=1, max_size=40)


def _bulk(seed: int, n: int) -> Iterator[dict[str, Any]]:
    """Many plain rows cheaply (Hypothesis draws only the seed and the count)."""
    rng = random.Random(seed)
    for i in range(n):
        yield {"i": i, **{k: rng.uniform(-1e6, 1e6) for k in rng.sample(KEYS, rng.randint(1, 3))}}


def _recorded(step: Callable[..., None]) -> Callable[..., None]:
    """Tally the step and keep the example's trail; the first failure is kept as it happened:
    Hypothesis replays a failing example, and chaos does not replay exactly."""
    @functools.wraps(step)
    def run(self: Chaos, **kwargs: Any) -> None:
        self.trail.append(f"{step.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"[:400])
        if step.__name__ != "teardown":
            self.tally["steps"] += 1
            self.tally[step.__name__] += 1
        try:
            step(self, **kwargs)
        except BaseException:
            if not self.failures:
                self.failures.append("\n".join([traceback.format_exc(), "steps of that example:", *self.trail]))
            raise
    return run


class Chaos(RuleBasedStateMachine):
    cluster: ChaosServer
    tally: Counter[str]
    failures: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.root = self.cluster.root / f"client-{uuid.uuid4().hex[:8]}"
        self.root.mkdir()
        self.project = f"chaos-{uuid.uuid4().hex[:8]}"
        self.cluster.proxy.resume()
        self.log_from = self.cluster.log_size()
        self.online = RunModel(uuid.uuid4().hex[:12])
        self.process: SdkProcess | None = None
        self.processes = 0  # started for the online run
        self.offline: list[tuple[RunModel, Path]] = []
        self.tally["examples"] += 1
        self.trail: list[str] = []

    def _logger(self, faults: bool = True) -> SdkProcess:
        """The run's live process, or a new one resuming it. Faults are held back while it
        starts: a resume first delivers what killed processes left (Run._deliver_earlier, one
        attempt), and a failure there is reported by the SDK as a possible step collision."""
        if self.process is None:
            held = self.cluster.proxy.pause()
            try:
                self.process = SdkProcess(self.cluster.proxy.url, self.project, self.online.run_id, self.root)
            finally:
                if faults:
                    self.cluster.proxy.resume()
                    self.cluster.proxy.queue(*held)
            if self.processes:
                self.online.resumed(self.process.start_step)
            else:
                assert self.process.start_step == 0
            self.processes += 1
        return self.process

    @initialize()
    @_recorded
    def start(self) -> None:
        self._logger()

    def _inject(self, faults: list[str]) -> None:
        """Faults for the requests the rule's action makes next (queued ones left over when an
        example ends are dropped)."""
        if faults:
            self.tally[QUEUED] += len(faults)
            self.cluster.proxy.queue(*faults)

    @rule(calls=_CALLS, faults=_FAULTS)
    @_recorded
    def log(self, calls: list[tuple[str, int, dict[str, Any]]], faults: list[str]) -> None:
        logger = self._logger()
        self._inject(faults)
        sent = [self.online.call(kind, jump, {**data, "g": self.online.gen}) for kind, jump, data in calls]
        assert logger.log(sent) == self.online.cur, "the SDK's run.step disagrees with W&B's row semantics"

    @rule(seed=st.integers(0, 2**32), n=st.integers(100, 2500), faults=_FAULTS)
    @_recorded
    def log_many(self, seed: int, n: int, faults: list[str]) -> None:
        logger = self._logger()
        self._inject(faults)
        sent = [self.online.call("plain", 0, {**row, "g": self.online.gen}) for row in _bulk(seed, n)]
        assert logger.log(sent) == self.online.cur

    @precondition(lambda self: self.process is not None)
    @rule(after=st.sampled_from([0.0, 0.05, 0.3]), settle=st.booleans())
    @_recorded
    def kill_client(self, after: float, settle: bool) -> None:
        """SIGKILL the logging process, at once or while its writer and uploader are at work.
        ``settle``: a request it left held in the proxy lands now, before a new process resumes
        from the stale ack (an overlapping resend); otherwise it may land later, after the new
        process took over (a dead writer's late batch)."""
        assert self.process is not None
        time.sleep(after)  # the scenario: how far the process got
        self.process.kill()
        self.process = None
        self.online.killed()
        if settle:
            self.cluster.proxy.release_held()
            self.cluster.proxy.wait_forwarded()

    @rule(outage=st.sampled_from([0.0, 0.5]), limit=st.sampled_from([None, None, SMALL_LIMIT]))
    @_recorded
    def kill_server(self, outage: float, limit: int | None) -> None:
        self.cluster.kill()
        time.sleep(outage)  # the scenario: how long the server stays down
        self.cluster.restart(limit)

    @rule(seed=st.integers(0, 2**32), n=st.integers(1, 3000))
    @_recorded
    def offline_run(self, seed: int, n: int) -> None:
        """A run journaled offline, for `trackwell sync` (killed or not) to deliver."""
        model = RunModel(uuid.uuid4().hex[:12])
        root = self.root / model.run_id
        root.mkdir()
        process = SdkProcess(self.cluster.proxy.url, self.project, model.run_id, root, mode="offline")
        process.log([model.call("plain", 0, row) for row in _bulk(seed, n)])
        process.finish()
        model.finished()
        self.offline.append((model, root))

    @precondition(lambda self: self.offline)
    @rule(after=st.sampled_from([0.2, 0.5, 1.0, None]), faults=_FAULTS)
    @_recorded
    def sync_offline(self, after: float | None, faults: list[str]) -> None:
        """`trackwell sync` of the offline runs through the proxy, SIGKILLed ``after`` seconds
        (or left to finish: with faults it may still exit 1, leaving the rest for later)."""
        self._inject(faults)
        process = sync([root for _, root in self.offline], self.cluster.proxy.url)
        if after is None:
            process.communicate(timeout=300)
            return
        try:
            process.wait(after)  # the scenario: how far the sync got
        except subprocess.TimeoutExpired:  # still running: the kill lands mid-sync
            process.kill()
        process.communicate()

    @_recorded
    def teardown(self) -> None:
        self.cluster.proxy.pause()  # what is still queued would only slow the final delivery down
        try:
            # the last process was killed: a new one resumes and ends the run
            self._logger(faults=False).finish()
            self.process = None
            self.online.finished()
            done = sync([self.root], self.cluster.url, "--retry-dead-letters")
            out, _ = done.communicate(timeout=300)
            assert done.returncode == 0, out
            self.tally[DEAD] += "retried" in out  # records a 413/422 pinned on them, delivered now
            for model in [self.online, *(m for m, _ in self.offline)]:
                _assert_history(self.cluster.url, f"{self.cluster.server.entity}/{self.project}/{model.run_id}", model)
            troubles = self.cluster.troubles(self.log_from)
            assert not troubles, "the server answered 5xx or logged errors:\n" + "\n".join(troubles[:20])
        finally:
            if self.process is not None:
                self.process.kill()


def _assert_history(url: str, path: str, model: RunModel) -> None:
    got = scan_rows(url, path)
    steps = [row["_step"] for row in got]
    want = sorted(model.rows)
    assert steps == want, f"{path}: steps differ: missing {sorted(set(want) - set(steps))[:20]}, " \
                          f"extra {sorted(set(steps) - set(want))[:20]}, duplicated {len(steps) - len(set(steps))}"
    keys = set(KEYS) | {"s", "g", "i"}
    for row in got:
        seen = {k: v for k, v in row.items() if k in keys and v is not None}
        assert seen == model.rows[row["_step"]], f"{path}: step {row['_step']} differs"
    point_counts(url, path)  # the metric store's counts agree with the summaries kept at ingest
    metrics = http.get(f"{url}/api/v1/runs/{path}/metrics", timeout=30).json()["metrics"]
    for key in keys - {"s"}:
        points = [(step, row[key]) for step, row in sorted(model.rows.items()) if key in row]
        if not points:
            assert key not in metrics, f"{path}: {key}: never logged, yet summarized"
            continue
        values = [v for _, v in points]
        m = metrics[key]
        assert (m["count"], m["last_step"], m["last"], m["min"], m["max"]) == \
            (len(points), points[-1][0], values[-1], min(values), max(values)), \
            f"{path}: {key}: the summary kept at ingest is not the logged history's (points applied twice or lost?)"
    run = get_run(url, path)
    assert run["state"] == "finished", f"{path}: the last process finished, yet the run is {run['state']}: {run}"


@pytest.fixture(params=["sqlite", "postgresql"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChaosServer]:
    db = None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    live = ChaosServer(tmp_path / "server", db)
    yield live
    live.close()


@pytest.mark.chaos
@pytest.mark.timeout(max(300, EXAMPLES * STEPS * 30))
def test_every_row_exactly_once_under_chaos(cluster: ChaosServer) -> None:
    tally: Counter[str] = Counter()
    failures: list[str] = []
    machine = type("ChaosMachine", (Chaos,), {"cluster": cluster, "tally": tally, "failures": failures})
    phases = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])]
    started = time.monotonic()
    try:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
            phases=phases, print_blob=True, suppress_health_check=list(HealthCheck)))
    except BaseException as exc:
        if failures:  # what Hypothesis reports is its replay, which may have gone otherwise
            raise AssertionError(f"the first failure, as it happened:\n{failures[0]}") from exc
        raise
    finally:
        print(f"\nchaos ({'PostgreSQL' if cluster.db else 'SQLite'}): {tally['examples']} examples, "
              f"{tally['steps']} steps in {time.monotonic() - started:.0f} s; rules: "
              + ", ".join(f"{k} {v}" for k, v in sorted(tally.items()) if k not in ("examples", "steps", DEAD, QUEUED))
              + f"; {DEAD}: {tally[DEAD]}; {QUEUED}: {tally[QUEUED]}, of which hit a request: "
              + ", ".join(f"{k} {v}" for k, v in sorted(Counter(x.fault for x in cluster.proxy.seen).items())))
