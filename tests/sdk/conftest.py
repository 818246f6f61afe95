from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import trackwell


@pytest.fixture
def offline_run(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start offline runs journaling under tmp_path (console capture off unless asked)."""
    runs: list[Any] = []

    def start(**kwargs: Any) -> Any:
        settings = {"quiet": True, "console": "off", **kwargs.pop("settings", {})}
        run = trackwell.init(mode=kwargs.pop("mode", "offline"), dir=tmp_path, settings=settings,
                             reinit=True, **kwargs)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.finish(quiet=True)
