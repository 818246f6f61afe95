"""`trackwell sync`'s engine: find journals, deliver them, mark them synced when complete.

A journal whose records were damaged on disk is delivered around the hole (see delivery.py)
but never marked synced, so every later `trackwell sync` reports the loss again and exits
non-zero: a clean "synced" always means every record the run wrote reached the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trackwell.schema import Exit, last_seq
from trackwell.sdk.deadletter import DeadLetters, dead_path
from trackwell.sdk.delivery import DeliveryResult, Progress, deliver, retry_dead_letters
from trackwell.sdk.files import pending
from trackwell.sdk.journal import (
    JOURNAL_SUFFIX,
    JournalHeader,
    JournalReader,
    Loss,
    read_ack,
    synced_path,
)
from trackwell.sdk.rundir import writer_alive

if TYPE_CHECKING:
    from trackwell.sdk.sinks import Sink


def find_journals(paths: Iterable[str | Path]) -> list[Path]:
    """``run-*.twj`` files named directly or found under the given directories, de-duplicated."""
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.name.endswith(JOURNAL_SUFFIX):
            found[path.resolve()] = None
        elif path.is_dir():
            for journal in sorted(path.rglob(f"run-*{JOURNAL_SUFFIX}")):
                found[journal.resolve()] = None
    return list(found)


@dataclass
class JournalState:
    path: Path
    header: JournalHeader
    last_seq: int
    acked: int
    has_exit: bool
    synced: bool
    alive: bool  # a process is still writing it
    dead_letters: int = 0  # records the server refused, kept in <journal>.dead
    dead_acked: int = 0  # how many of those a --retry-dead-letters delivered (or re-set aside)
    losses: list[Loss] = field(default_factory=list)  # records damage on disk took
    skipped: list[tuple[int, int]] = field(default_factory=list)  # damaged byte ranges read past
    note: str | None = None  # how a damaged journal header was recovered

    @property
    def pending(self) -> int:
        return max(0, self.last_seq - self.acked)

    @property
    def dead_pending(self) -> int:
        return max(0, self.dead_letters - self.dead_acked)

    @property
    def run_dir(self) -> Path:
        return self.path.parent

    @property
    def label(self) -> str:
        h = self.header
        return f"{h.entity}/{h.project}/{h.run_id}"


def inspect(journal: Path) -> JournalState:
    """Read a journal's state without touching the network, damage included (raises
    JournalError only if it cannot be read at all: not a journal, or its header is lost)."""
    reader = JournalReader(journal)
    last, has_exit = 0, False
    for record, _ in reader.read():
        last = max(last, last_seq(record))
        has_exit = has_exit or isinstance(record, Exit)
    return JournalState(journal, reader.header, last, read_ack(journal), has_exit,
                        synced_path(journal).exists(), writer_alive(journal),
                        DeadLetters(journal).highest(), read_ack(dead_path(journal)),
                        reader.losses, reader.skipped, reader.note)


@dataclass
class SyncOutcome:
    state: JournalState
    result: DeliveryResult
    marked_synced: bool

    @property
    def remaining(self) -> int:
        return max(0, self.result.last_seq - self.result.acked)


BUSY_PATIENCE = 600.0  # seconds a sync keeps waiting out a saturated server's 429s
_MAX_BUSY_WAIT = 30.0


def sync_journal(state: JournalState, sink: Sink, progress: Progress | None = None,
                 recheck: bool = False) -> SyncOutcome:
    """Deliver one journal; mark it synced only once its last record is acknowledged, the run
    is over (an Exit record, or no process holds the journal any more: it crashed) and no record
    was lost to damage on disk (``result.lost``)."""
    from trackwell.transport import TooManyRequests

    busy_until = time.monotonic() + BUSY_PATIENCE
    while True:
        try:
            result = deliver(state.path, sink, progress, recheck=recheck)
            break
        except TooManyRequests as exc:  # busy, not down: wait as asked, then go on from the ack
            if time.monotonic() >= busy_until:
                raise
            time.sleep(min(exc.retry_after or 1.0, _MAX_BUSY_WAIT))
    over = result.saw_exit or not writer_alive(state.path)
    if pending(state.run_dir):  # the files' bytes, after the records that name them
        h = state.header
        sink.upload_files((h.entity, h.project, h.run_id), state.run_dir)
    marked = result.complete and result.last_seq > 0 and over and not result.lost and not pending(state.run_dir)
    if marked:
        synced_path(state.path).touch()
    return SyncOutcome(state, result, marked)


def retry_dead(state: JournalState, sink: Sink, progress: Progress | None = None) -> DeliveryResult:
    """Resend a finished journal's dead letters under their own writer (exactly once).

    Only once no process writes the journal: its uploader may still be appending letters.
    """
    if writer_alive(state.path):
        raise RuntimeError("the run is still running; retry its dead letters after it finished")
    return retry_dead_letters(state.path, sink, progress)


def iter_states(journals: Iterable[Path]) -> Iterator[tuple[Path, JournalState | Exception]]:
    for journal in journals:
        try:
            yield journal, inspect(journal)
        except Exception as exc:  # noqa: BLE001 - reported per journal by the caller
            yield journal, exc
