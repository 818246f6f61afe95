"""``console="wrap"``: tee ``sys.stdout``/``sys.stderr`` at the Python level. What C extensions
and subprocesses write to file descriptors 1 and 2 directly is not seen (``redirect`` sees it)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from trackwell.sdk.console._lines import LineBuffer

Emit = Callable[[str, list[str]], None]
_QUEUED_EVENTS = 4096  # console events queued before a print waits for the writer (as log() does)


class _Tee:
    def __init__(self, stream: TextIO, name: str, emit: Emit, backlog: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._name = name
        self._emit: Emit | None = emit
        self._backlog = backlog
        self._lines = LineBuffer()
        self._lock = threading.Lock()

    def write(self, s: str) -> int:
        n = self._stream.write(s)
        if self._emit is not None and isinstance(s, str) and s:
            try:
                with self._lock:
                    lines = self._lines.feed(s)
                self._send(lines)
            except Exception:  # noqa: BLE001, S110 - capture must never break printing
                pass
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _send(self, lines: list[str]) -> None:
        emit = self._emit
        if emit is not None and lines:
            emit(self._name, lines)
            # a flood of prints waits for the writer like log() does; our own threads (the
            # writer's warnings among them) never wait
            if self._backlog is not None and not threading.current_thread().name.startswith("trackwell-"):
                self._backlog(_QUEUED_EVENTS)

    def detach(self) -> None:
        """Stop capturing; the unfinished last line, if any, is recorded as a line."""
        with self._lock:
            rest = self._lines.rest()
        self._send(rest)
        self._emit = None

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, flush, buffer, ...
        return getattr(self._stream, name)


class StreamWrap:
    def __init__(self, emit: Emit, backlog: Callable[[int], None] | None = None) -> None:
        self._emit = emit
        self._backlog = backlog
        self._tees: dict[str, _Tee] = {}

    def start(self) -> None:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None:
                tee = _Tee(stream, name, self._emit, self._backlog)
                self._tees[name] = tee
                setattr(sys, name, tee)

    def stop(self) -> None:
        for name, tee in self._tees.items():
            tee.detach()
            if getattr(sys, name) is tee:  # someone replaced it after us: leave theirs in place
                setattr(sys, name, tee._stream)
        self._tees.clear()
