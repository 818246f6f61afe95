"""Per-run locks of one server process: a batch, a projection, a rewind or a fork changes a
run's history while holding its lock."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_STRIPES = 256


class RunLocks:
    """Striped: bounded memory however many runs a server sees; two runs that share a stripe
    only take turns. Several are taken only through ``locks`` (in stripe order, so two forks can
    never wait on each other)."""

    def __init__(self, stripes: int = _STRIPES) -> None:
        self._stripes = tuple(threading.Lock() for _ in range(stripes))

    def _index(self, run: tuple[str, str, str]) -> int:
        return hash(run) % len(self._stripes)

    def lock(self, entity: str, project: str, run_id: str) -> threading.Lock:
        return self._stripes[self._index((entity, project, run_id))]

    @contextlib.contextmanager
    def locks(self, *runs: tuple[str, str, str]) -> Iterator[None]:
        """Hold the locks of several runs (a fork: its source and itself)."""
        with contextlib.ExitStack() as stack:
            for i in sorted({self._index(run) for run in runs}):
                stack.enter_context(self._stripes[i])
            yield
