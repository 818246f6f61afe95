"""A recording run's files: its saver (journaling FileSaved records through the run's queue)
and, online, the uploader thread that sends the staged bytes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from trackwell.schema import FileSaved
from trackwell.sdk.events import Prebuilt
from trackwell.sdk.files._saver import FileSaver
from trackwell.sdk.files._uploader import FileUploader

if TYPE_CHECKING:
    from trackwell.sdk.run import Run
    from trackwell.sdk.rundir import RunDir


class RunFiles:
    def __init__(self, run: Run, rundir: RunDir, server: tuple[str | None, str | None] | None) -> None:
        self._run = run
        self.uploader: FileUploader | None = None
        if server is not None:
            from trackwell.transport import Client

            self.uploader = FileUploader(Client(*server), run.entity, run.project, rundir.root, f"run {run.path}")
            self.uploader.start()
        self.saver = FileSaver(rundir.root, rundir.files, self._journal,
                               on_staged=None if self.uploader is None else self.uploader.wake)
        from trackwell.sdk.media import MediaLogger

        run._normalize.media = MediaLogger(rundir.root, self.saver.record_staged)

    def save(self, glob_str: Any, base_path: Any, policy: str) -> list[str]:
        if self._run._q is None:  # finished, or the parent's run in a forked child
            self._run._refused()
            return []
        return self.saver.save(glob_str, base_path, policy)

    def _journal(self, name: str, digest: str, size: int) -> None:
        self._run._enqueue(Prebuilt(FileSaved(seq=0, ts=time.time(), name=name, digest=digest, size=size)))

    def finish(self) -> None:
        self.saver.finish()

    def upload(self, timeout: float) -> bool:
        """Send what is staged within ``timeout`` seconds (online); True when nothing is left."""
        if self.uploader is None:
            return True
        done = self.uploader.finish(timeout)
        if not self.uploader.is_alive():  # else it is mid-request: a daemon, it ends with the process
            self.uploader.client.close()
        return done
