"""Console capture: tee sys.stdout/sys.stderr at the Python level; complete lines go to the writer.

The original streams still print everything. Only whole lines are recorded; a carriage return
keeps just the text after it (a progress bar redraws in place, so only its latest state matters).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

Emit = Callable[[str, list[str]], None]
_MAX_PARTIAL = 64 * 1024  # a line that never ends is cut here rather than held forever


def _clean(line: str) -> str:
    if "\r" in line:
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
    if not line.isascii():  # lone surrogates (surrogateescape'd bytes) cannot be encoded as UTF-8
        line = line.encode("utf-8", "replace").decode("utf-8")
    return line


class _Tee:
    def __init__(self, stream: TextIO, name: str, emit: Emit) -> None:
        self._stream = stream
        self._name = name
        self._emit: Emit | None = emit
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, s: str) -> int:
        n = self._stream.write(s)
        if self._emit is not None and isinstance(s, str) and s:
            try:
                self._capture(s)
            except Exception:  # noqa: BLE001, S110 - capture must never break printing
                pass
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _capture(self, s: str) -> None:
        with self._lock:
            text = self._partial + s
            if "\n" not in s:
                if "\r" in s:
                    text = text.rsplit("\r", 1)[-1]
                self._partial = text[-_MAX_PARTIAL:]
                return
            *lines, self._partial = text.split("\n")
        self._send([_clean(line) for line in lines])

    def _send(self, lines: list[str]) -> None:
        if self._emit is not None and lines:
            self._emit(self._name, lines)

    def detach(self) -> None:
        """Stop capturing; the unfinished last line, if any, is recorded as a line."""
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._send([_clean(rest)])
        self._emit = None

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, flush, buffer, ...
        return getattr(self._stream, name)


class ConsoleCapture:
    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._tees: dict[str, _Tee] = {}

    def start(self) -> None:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None:
                tee = _Tee(stream, name, self._emit)
                self._tees[name] = tee
                setattr(sys, name, tee)

    def stop(self) -> None:
        for name, tee in self._tees.items():
            tee.detach()
            if getattr(sys, name) is tee:  # someone replaced it after us: leave theirs in place
                setattr(sys, name, tee._stream)
        self._tees.clear()
