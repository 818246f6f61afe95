"""The sampler thread: a system sample at start, the run's metadata once, then a sample every
``stats_sampling_interval`` seconds and a last one at ``stop()``. Each record goes to the
writer's queue as it is (``events.Prebuilt``, an O(1) append): ``log()`` never waits for a
sample, and samples never take a ``_step``. ``finish()`` stops the thread before it queues the
run's exit, so no sample follows it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackwell.schema import RunMetadata, SystemSample
from trackwell.sdk import events as ev
from trackwell.sdk.errors import warn
from trackwell.sdk.system._gpu import GpuProbe
from trackwell.sdk.system._probes import HostProbe

Enqueue = Callable[[ev.Event], None]  # the writer's queue's append
_LAST_SAMPLE_GAP = 1.0  # stop() samples once more if the last sample is older than this
_STOP_WAIT = 2.0


class SystemMonitor:
    def __init__(self, enqueue: Enqueue, started: float, files_dir: Path, *, interval: float, per_core: bool,
                 stats: bool, meta: bool, code: bool) -> None:
        self._enqueue, self._started, self._files = enqueue, started, files_dir
        self._interval, self._per_core = interval, per_core
        self._stats, self._meta, self._code = stats, meta, code
        self._stop = threading.Event()
        self._host: HostProbe | None = None
        self._gpu: GpuProbe | None = None
        self._last = 0.0
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="trackwell-system", daemon=True)

    @classmethod
    def start(cls, settings: Any, enqueue: Enqueue, started: float, files_dir: Path) -> SystemMonitor | None:
        """A running monitor for ``settings``, or None when it has nothing to do."""
        stats, meta, code = not settings.x_disable_stats, not settings.x_disable_meta, bool(settings.save_code)
        if not (stats or meta or code):
            return None
        monitor = cls(enqueue, started, files_dir, interval=float(settings.stats_sampling_interval),
                      per_core=bool(settings.x_stats_per_core), stats=stats, meta=meta, code=code)
        monitor._thread.start()
        return monitor

    def stop(self) -> None:
        """Take the last sample and end the thread (waits at most ``_STOP_WAIT`` seconds: a git
        command hanging on a network filesystem must not hold up ``finish()``)."""
        self._stop.set()
        self._thread.join(_STOP_WAIT)

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            gpu_meta = self._open()
            self._sample()  # the first sample at start
            if self._meta or self._code:
                self._describe(gpu_meta)
            while not self._stop.wait(self._interval):
                self._sample()
            if time.time() - self._last >= _LAST_SAMPLE_GAP:
                self._sample()
        except Exception as exc:  # noqa: BLE001 - never disturb the run: say so once and stop sampling
            self._problem(f"the system monitor stopped ({type(exc).__name__}: {exc})")
        finally:
            if self._gpu is not None:
                self._gpu.close()

    def _open(self) -> dict[str, Any]:
        """Start the probes; what the GPU side found, for the metadata."""
        if not self._stats and not self._meta:
            return {}
        try:
            self._host = HostProbe(str(self._files), self._per_core)
        except ImportError:
            self._problem("system metrics need psutil (pip install psutil); none are recorded for this run")
        self._gpu, how = GpuProbe.open()
        return self._gpu.describe() if self._gpu is not None else {"gpu_count": 0, "gpu_probe": how}

    def _sample(self) -> None:
        if not self._stats or (self._host is None and self._gpu is None):
            return
        now = time.time()
        data: dict[str, float] = {}
        if self._host is not None:
            data.update(self._host.sample())
        if self._gpu is not None:
            data.update(self._gpu.sample())
        self._last = now
        self._enqueue(ev.Prebuilt(SystemSample(seq=0, ts=now, runtime=now - self._started, data=data)))

    def _describe(self, gpu_meta: dict[str, Any]) -> None:
        from trackwell.sdk.system import _metadata  # subprocess and friends: on this thread only

        psutil = self._host._psutil if self._host is not None else None
        meta = _metadata.collect(psutil, gpu_meta) if self._meta else {}
        if self._code:
            try:
                saved = _metadata.save_code(_metadata.main_program(), self._files)
            except OSError as exc:
                self._problem(f"save_code could not copy the script ({exc})")
                saved = None
            if saved is not None:
                meta["code_path"] = saved
        if meta:
            self._enqueue(ev.Prebuilt(RunMetadata(seq=0, ts=time.time(), data=meta)))

    def _problem(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            warn(f"trackwell: {what}")
