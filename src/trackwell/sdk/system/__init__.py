"""System metrics, run metadata and the saved script of a run (issue 18).

``SystemMonitor.start(settings, emit, started, files_dir)`` runs one daemon thread that sends a
``RunMetadata`` record once and a ``SystemSample`` record at start and every
``stats_sampling_interval`` seconds (W&B's 15 by default; ``x_disable_stats`` turns sampling
off, ``x_disable_meta`` the metadata). psutil and NVML load on that thread, never at import."""

from trackwell.sdk.system._monitor import SystemMonitor

__all__ = ["SystemMonitor"]
