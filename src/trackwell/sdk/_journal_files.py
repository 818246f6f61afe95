"""The files beside a run journal: ``<journal>.ack`` (the highest seq the server acknowledged,
written atomically), ``<journal>.synced`` (every record acknowledged) and ``<journal>.header``
(a copy of the journal's first bytes, for when its own header is damaged)."""

from __future__ import annotations

import os
from pathlib import Path

JOURNAL_SUFFIX = ".twj"


def journal_path(run_dir: str | os.PathLike[str], run_id: str) -> Path:
    return Path(run_dir) / f"run-{run_id}{JOURNAL_SUFFIX}"


def ack_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".ack")


def synced_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".synced")


def header_path(journal: Path) -> Path:
    """The copy of the journal's header, for when the journal's own is damaged."""
    return journal.with_name(journal.name + ".header")


def write_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a crash leaves the old file or none)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def fsync_path(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the journal itself is synced
    finally:
        os.close(fd)


def read_ack(journal: Path) -> int:
    """Highest seq the server acknowledged for this journal (0 if none)."""
    try:
        return int(ack_path(journal).read_text().strip() or 0)
    except FileNotFoundError:
        return 0


def write_ack(journal: Path, seq: int) -> None:
    """Persist the acknowledged position atomically (a crash leaves the old or the new value)."""
    target = ack_path(journal)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(str(seq))
    os.replace(tmp, target)
