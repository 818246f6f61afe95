"""Exit codes: finish(exit_code=), sys.exit(n), raise SystemExit(n), exceptions, KeyboardInterrupt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import get_run, rows, run_child, run_path
from servers import http


@pytest.mark.parametrize(("then", "code", "status", "state", "recorded"), [
    ("finish", None, 0, "finished", 0),
    ("finish", 3, 0, "failed", 3),
    ("end", None, 0, "finished", 0),
    ("sys.exit", 4, 4, "failed", 4),
    ("sys.exit", 0, 0, "finished", 0),
    ("raise SystemExit", 5, 5, "failed", 5),  # W&B records 0 here
    ("raise SystemExit", "bye", 1, "failed", 1),  # a message exits 1
    ("swallow SystemExit", None, 0, "finished", 0),  # caught: the script went on and ended normally
    ("error", None, 1, "failed", 1),
    ("keyboard", None, -2, "failed", 255),  # like W&B; Python itself exits by SIGINT
])
def test_exit_code_is_recorded(server: Any, tmp_path: Path, then: str, code: Any, status: int, state: str,
                               recorded: int) -> None:
    spec = {"init": {}, "steps": 3, "then": then, "code": code}
    got, ready, err = run_child(tmp_path, server.url, spec)
    assert got == status and ready is not None, err
    run = get_run(server.url, ready["id"])
    assert (run["state"], run["exit_code"]) == (state, recorded)
    assert [r["i"] for r in rows(server.url, ready["id"])] == [0, 1, 2]


def test_uncaught_exception_traceback_is_in_the_run_log(server: Any, tmp_path: Path) -> None:
    for console in ("auto", "off"):
        got, ready, err = run_child(tmp_path, server.url, {"init": {"settings": {"console": console}}, "then": "error"})
        assert got == 1 and ready is not None and "ValueError: boom in training" in err
        lines = http.get(f"{server.url}/api/v1/runs/{run_path(server.url, ready['id'])}/console", timeout=10).json()["lines"]
        text = "\n".join(line["text"] for line in lines)
        assert "Traceback (most recent call last)" in text and "ValueError: boom in training" in text, console
