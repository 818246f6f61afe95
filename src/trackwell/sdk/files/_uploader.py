"""The file uploader: a thread that sends staged files to the server, beside the record
uploader. Records and bytes travel separately: the server keeps a file's reference from its
FileSaved record and marks it uploaded when the bytes arrive, in whichever order they come."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from trackwell.sdk.errors import warn
from trackwell.sdk.files._stage import STATE_SUFFIX, pending, uploaded

if TYPE_CHECKING:
    from trackwell.transport import Client

_RETRY = 5.0  # seconds between rounds after a failed one
_ASK = 1000  # digests per "which are missing?" question
_SMALL = 256 * 1024  # files up to this size go up several per request ...
_BATCH = 2 * 1024 * 1024  # ... in requests of about this many bytes


def upload_pending(client: Client, entity: str, project: str, run_root: Path) -> int:
    """Send every staged file of the run the server lacks; returns how many were staged."""
    from trackwell.transport._files import missing_blobs, upload_blob

    files = pending(run_root)
    for i in range(0, len(files), _ASK):
        some = files[i:i + _ASK]
        lacking = set(missing_blobs(client, entity, project, [d for d, _ in some]))
        batch: list[tuple[str, bytes]] = []
        for digest, path in some:
            size = path.stat().st_size
            if digest in lacking and size <= _SMALL:  # small files travel together
                batch.append((digest, path.read_bytes()))
                if sum(len(b) for _, b in batch) >= _BATCH:
                    _send_small(client, entity, project, run_root, batch)
                    batch = []
                continue
            if digest in lacking:
                upload_blob(client, entity, project, path, digest, size,
                            state_path=path.with_name(digest + STATE_SUFFIX), ask=False)
            uploaded(run_root, digest)
        _send_small(client, entity, project, run_root, batch)
    return len(files)


def _send_small(client: Client, entity: str, project: str, run_root: Path, batch: list[tuple[str, bytes]]) -> None:
    from trackwell.transport._files import upload_small

    if batch:
        upload_small(client, entity, project, batch)
        for digest, _ in batch:
            uploaded(run_root, digest)


class FileUploader(threading.Thread):
    """Uploads the run's staged files whenever woken, until stopped; a failed round is retried."""

    def __init__(self, client: Client, entity: str, project: str, run_root: Path, label: str) -> None:
        super().__init__(name="trackwell-files", daemon=True)
        self.client, self.entity, self.project, self.run_root, self.label = client, entity, project, run_root, label
        self._wake = threading.Event()
        self._stop_at: float | None = None
        self._idle = threading.Event()
        self._idle.set()
        self.error: Exception | None = None

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def run(self) -> None:
        while True:
            self._wake.wait(_RETRY if self.error is not None else None)
            self._wake.clear()
            try:
                upload_pending(self.client, self.entity, self.project, self.run_root)
                self.error = None
            except Exception as exc:  # noqa: BLE001 - kept staged; retried, then `trackwell sync`
                if self.error is None:
                    warn(f"trackwell: uploading files of {self.label} failed ({exc}); retrying, and "
                         "`trackwell sync` sends what is left")
                self.error = exc
            if self.error is None and not self._wake.is_set():
                self._idle.set()
            if self._stop_at is not None and (self._idle.is_set() or time.monotonic() >= self._stop_at):
                return

    def finish(self, timeout: float) -> bool:
        """Upload what is staged, within ``timeout`` seconds; True if nothing is left."""
        self._stop_at = time.monotonic() + max(0.0, timeout)
        self.wake()
        self.join(max(0.0, timeout))
        return not pending(self.run_root)
