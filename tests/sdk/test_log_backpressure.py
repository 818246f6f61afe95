"""A caller that logs faster than the writer thread keeps up waits for it at a bounded queue, so
memory and what finish() has left to write stay bounded; a writer that makes no progress (a hung
disk) is not waited for again until it does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sdk_helpers import history

from trackwell.sdk import run as run_module
from trackwell.sdk import writer as writer_module


def test_a_caller_outpacing_the_writer_waits_at_the_bound(offline_run: Callable[..., Any]) -> None:
    run = offline_run()
    journal = run._writer._journal
    real_append = journal.append_rows

    def slow_append(first_seq: int, base: float, rows: list[Any]) -> int:
        time.sleep(0.01)  # a slow disk: the caller outpaces the writer
        return int(real_append(first_seq, base, rows))

    journal.append_rows = slow_append
    n, longest = 3 * run_module._MAX_QUEUED, 0
    q = run._q
    for i in range(n):
        run.log({"i": i})
        longest = max(longest, len(q))
    run.finish()
    assert longest <= run_module._MAX_QUEUED
    assert [r.step for r in history(run.journal_path())] == list(range(n))


def test_a_stalled_writer_slows_logging_down_but_never_stops_it(offline_run: Callable[..., Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "_STALL", 0.2)
    run = offline_run()
    journal = run._writer._journal
    real_append = journal.append_rows
    disk = threading.Event()

    def hung_append(first_seq: int, base: float, rows: list[Any]) -> int:
        disk.wait()  # a hung disk: no progress until it comes back
        return int(real_append(first_seq, base, rows))

    journal.append_rows = hung_append
    n = 3 * run_module._MAX_QUEUED
    for i in range(n):  # waits once (for _STALL), then goes on: the queue takes what is logged
        run.log({"i": i})
    assert run._writer._stalled
    disk.set()
    run.finish()
    assert [r.step for r in history(run.journal_path())] == list(range(n))
