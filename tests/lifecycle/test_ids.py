"""Run ids and display names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import get_run, run_child

import trackwell
from trackwell.sdk import UsageError


def test_generated_id_and_server_display_name(server: Any, tmp_path: Path) -> None:
    status, ready, err = run_child(tmp_path, server.url, {"init": {}, "steps": 1})
    assert status == 0 and ready is not None, err
    assert re.fullmatch(r"[0-9a-z]{8}", ready["id"])
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", get_run(server.url, ready["id"])["name"])
    status, ready, err = run_child(tmp_path, server.url, {"init": {"name": "my-name"}, "steps": 1})
    assert ready is not None and get_run(server.url, ready["id"])["name"] == "my-name"


@pytest.mark.parametrize(("bad", "named"), [
    ("has space", "contains ' '"), ("a/b?c", "contains '/', '?'"), ("x" * 65, "1 to 64 characters")])
def test_given_id_is_validated(tmp_path: Path, bad: str, named: str) -> None:
    with pytest.raises(UsageError, match=re.escape(named)):
        trackwell.init(dir=tmp_path, mode="offline", reinit=True, id=bad)
