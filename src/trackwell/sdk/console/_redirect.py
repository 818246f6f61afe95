"""``console="redirect"``: file descriptors 1 and 2 become pipes (ptys where they were terminals)
read by one thread, which writes everything on to the original descriptors and records the lines. So output of C extensions
(``os.write(1, ...)``, CUDA and NCCL warnings) and of child processes, which inherit the pipes,
is captured as well as Python's.

Never stuck: the reader only appends to the writer's queue, waiting (``backlog``) while that
queue is long, which slows a flood of output down as a slow terminal would and keeps memory
bounded. ``stop()`` restores the descriptors, reads what is left in the pipes and records the
unfinished last lines; a child still holding a pipe keeps being forwarded (not recorded) until
it closes it."""

from __future__ import annotations

import codecs
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from trackwell.sdk.console._lines import LineBuffer

Emit = Callable[[str, list[str]], None]
_READ = 64 * 1024
_QUEUED_EVENTS = 64  # console events the writer may have queued before the reader waits (~4 MB)
_QUIET = 0.05  # stop(): the pipes are drained once nothing came for this long
_DRAIN = 1.0  # ... or after this long (a child that never stops printing)
_STOP_WAIT = 2.0


class _Pipe:
    """One captured descriptor: the pipe's read end, the saved original, the line state."""

    def __init__(self, name: str, fd: int) -> None:
        self.name, self.fd = name, fd
        self.saved = os.dup(fd)  # not inheritable: children get the pipe, as our own writes do
        read, write = _terminal_like(fd) if os.isatty(fd) else os.pipe()
        os.dup2(write, fd)
        os.close(write)
        self.read = read
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.lines = LineBuffer()
        self.tee_ok = True

    def tee(self, data: bytes) -> None:
        view = memoryview(data)
        while self.tee_ok and view:
            try:
                view = view[os.write(self.saved, view):]
            except InterruptedError:
                continue
            except OSError:  # the original output is gone (a closed pipe): keep recording
                self.tee_ok = False

    def feed(self, data: bytes) -> list[str]:
        return self.lines.feed(self.decoder.decode(data))

    def rest(self) -> list[str]:
        return self.lines.feed(self.decoder.decode(b"", final=True)) + self.lines.rest()

    def restore(self) -> None:
        os.dup2(self.saved, self.fd)


class FdRedirect:
    def __init__(self, emit: Emit, backlog: Callable[[int], None] | None = None) -> None:
        self._emit = emit
        self._backlog = backlog
        self._pipes: list[_Pipe] = []
        self._stopping = 0.0  # monotonic time stop() began
        self._restored = False
        self._drained = threading.Event()
        self._waker_r = self._waker_w = -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        _flush_python_streams()
        try:
            for name, fd in (("stdout", 1), ("stderr", 2)):
                self._pipes.append(_Pipe(name, fd))
        except OSError:
            self._undo()
            raise
        self._waker_r, self._waker_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="trackwell-console", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        _flush_python_streams()  # what print() still buffers belongs to the run
        self._stopping = time.monotonic()
        self._undo()
        self._restored = True
        try:
            os.write(self._waker_w, b"x")
        except OSError:  # the thread is gone already: both pipes ended once fds 1/2 were restored
            pass
        _close(self._waker_w)  # here, not by the thread: it may end before this write
        self._drained.wait(_STOP_WAIT)

    def _undo(self) -> None:
        for pipe in self._pipes:
            pipe.restore()

    # -- the reader thread -----------------------------------------------------------------

    def _loop(self) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        for each in self._pipes:
            sel.register(each.read, selectors.EVENT_READ, each)
        sel.register(self._waker_r, selectors.EVENT_READ, None)
        recording = True
        try:
            while len(sel.get_map()) > 1:
                events = sel.select(_QUIET if recording and self._stopping else None)
                if recording and self._stopping and (not events or time.monotonic() - self._stopping > _DRAIN):
                    recording = False
                    self._finish_lines()
                for key, _ in events:
                    pipe: _Pipe | None = key.data
                    if pipe is None:
                        os.read(self._waker_r, 64)
                        continue
                    data = _read(pipe.read)
                    if not data:  # every writer closed it
                        sel.unregister(pipe.read)
                        os.close(pipe.read)
                        continue
                    pipe.tee(data)
                    if recording:
                        try:
                            self._record(pipe.name, pipe.feed(data))
                        except Exception:  # noqa: BLE001, S110 - forwarding must go on whatever recording does
                            pass
        finally:
            if recording:
                self._finish_lines()
            sel.close()
            _close(self._waker_r)
            if self._restored:  # the originals are back on fds 1/2 (else stop() still needs them)
                for pipe in self._pipes:
                    _close(pipe.saved)

    def _record(self, name: str, lines: list[str]) -> None:
        if not lines:
            return
        self._emit(name, lines)
        if self._backlog is not None:
            self._backlog(_QUEUED_EVENTS)

    def _finish_lines(self) -> None:
        try:
            for pipe in self._pipes:
                self._record(pipe.name, pipe.rest())
        finally:
            self._drained.set()


def _terminal_like(fd: int) -> tuple[int, int]:
    """A pty standing in for the terminal on ``fd``: ``isatty()`` stays true for the program and
    its children (colours, progress bars sized to the window), with the terminal's modes and
    size but no output processing (bytes reach the real terminal as written)."""
    try:
        import fcntl
        import pty
        import termios

        read, write = pty.openpty()
    except (ImportError, OSError):  # no ptys here (Windows, a container without /dev/ptmx)
        return os.pipe()
    try:
        attrs = termios.tcgetattr(fd)
        attrs[1] &= ~termios.OPOST  # oflag: no \n -> \r\n here; the real terminal does it
        termios.tcsetattr(write, termios.TCSANOW, attrs)
        fcntl.ioctl(write, termios.TIOCSWINSZ, fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except (OSError, termios.error):  # a terminal that will not say: the pty's defaults
        pass
    return read, write


def _read(fd: int) -> bytes:
    while True:
        try:
            return os.read(fd, _READ)
        except InterruptedError:
            continue
        except OSError:
            return b""


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _flush_python_streams() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        flush: Any = getattr(stream, "flush", None)
        if flush is not None:
            try:
                flush()
            except Exception:  # noqa: BLE001, S110 - a closed or odd stream: nothing to flush
                pass
