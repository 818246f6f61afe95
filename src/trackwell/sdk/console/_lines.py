"""Text to console lines: only whole lines are recorded; a carriage return keeps just the text
after it (a progress bar redraws in place, so only its latest state matters)."""

from __future__ import annotations

MAX_LINE = 64 * 1024  # a line that never ends is recorded in pieces of this size, never held whole


def clean(line: str) -> str:
    if "\r" in line:
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
    if not line.isascii():  # lone surrogates (surrogateescape'd bytes) cannot be encoded as UTF-8
        line = line.encode("utf-8", "replace").decode("utf-8")
    return line


class LineBuffer:
    """Holds the unfinished last line between writes (not thread-safe: one owner)."""

    def __init__(self) -> None:
        self._partial = ""

    def feed(self, s: str) -> list[str]:
        """The lines ``s`` completes."""
        text = self._partial + s
        if "\n" not in s:
            if "\r" in s:
                text = text.rsplit("\r", 1)[-1]
            self._partial = text
            return self._cut() if len(text) > MAX_LINE else []
        *lines, self._partial = text.split("\n")
        out = [clean(line) for line in lines]
        if len(self._partial) > MAX_LINE:
            out += self._cut()
        return out

    def rest(self) -> list[str]:
        """The unfinished last line as a line (the stream ends), if there is one."""
        rest, self._partial = self._partial, ""
        return [clean(rest)] if rest else []

    def _cut(self) -> list[str]:
        text = self._partial
        n = len(text) - len(text) % MAX_LINE
        self._partial = text[n:]
        return [clean(text[i:i + MAX_LINE]) for i in range(0, n, MAX_LINE)]
