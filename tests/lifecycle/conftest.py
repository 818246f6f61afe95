from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifecycle_helpers import CRASH_TIMEOUT
from servers import LiveServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server per module, with a short crash timeout; every test uses its own runs."""
    live = start_server(tmp_path_factory.mktemp("server"), "--crash-timeout", str(CRASH_TIMEOUT))
    yield live
    live.stop()
