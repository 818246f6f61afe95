"""What one system sample reads, through psutil: the process (CPU %, RSS, threads, open file
descriptors, its storage I/O rate), the machine (CPU %, optionally per core, memory), the run directory's filesystem
(usage) and the disks' and network's throughput since the previous sample.

The first sample has no previous one: its process CPU % is the average since the process
started, and it has no I/O rates (a rate needs two readings)."""

from __future__ import annotations

import time
from typing import Any

_MB = 1024.0 * 1024.0
_GB = _MB * 1024.0


class HostProbe:
    """Reads psutil's counters; ``sample()`` returns ``system/...`` values (floats)."""

    def __init__(self, run_dir: str, per_core: bool = False) -> None:
        import psutil  # lazily: ~10 ms of import, paid on the sampler thread

        self._psutil = psutil
        self._proc = psutil.Process()
        self._dir = run_dir
        self._per_core = per_core
        self._first = True
        self._prev: dict[str, tuple[float, float, float]] = {}  # counter -> (t, a, b)
        psutil.cpu_percent(percpu=per_core)  # primes the machine's CPU counters

    def sample(self) -> dict[str, float]:
        ps, out = self._psutil, {}
        with self._proc.oneshot():
            out.update(self._process())
        if self._per_core:
            cores = ps.cpu_percent(percpu=True)
            out["system/cpu_percent"] = sum(cores) / len(cores) if cores else 0.0
            out.update({f"system/cpu/{i}/percent": float(v) for i, v in enumerate(cores)})
        else:
            out["system/cpu_percent"] = float(ps.cpu_percent())
        mem = ps.virtual_memory()
        out["system/memory/used_mb"] = mem.used / _MB
        out["system/memory/available_mb"] = mem.available / _MB
        out["system/memory/percent"] = float(mem.percent)
        try:
            disk = ps.disk_usage(self._dir)
            out["system/disk/used_gb"] = disk.used / _GB
            out["system/disk/free_gb"] = disk.free / _GB
            out["system/disk/percent"] = float(disk.percent)
        except OSError:  # the run dir went away (deleted under us): the rest still counts
            pass
        io = ps.disk_io_counters()
        if io is not None:  # None in containers without /proc/diskstats entries
            self._rate(out, "disk", io.read_bytes, io.write_bytes, "system/disk/read_mb_s", "system/disk/write_mb_s")
        net = ps.net_io_counters()
        if net is not None:
            self._rate(out, "net", net.bytes_recv, net.bytes_sent, "system/network/recv_mb_s",
                       "system/network/sent_mb_s")
        self._first = False
        return out

    def _process(self) -> dict[str, float]:
        proc = self._proc
        if self._first:  # the average since the process started: psutil's first reading is 0.0
            proc.cpu_percent()
            times = proc.cpu_times()
            age = max(time.time() - proc.create_time(), 1e-3)
            cpu = 100.0 * (times.user + times.system) / age
        else:
            cpu = proc.cpu_percent()
        out = {"system/proc/cpu_percent": float(cpu),
               "system/proc/rss_mb": proc.memory_info().rss / _MB,
               "system/proc/threads": float(proc.num_threads())}
        fds = _open_files(proc)
        if fds is not None:
            out["system/proc/open_files"] = float(fds)
        try:  # this process's own storage I/O (a data loader reading its shards); not on macOS
            io = proc.io_counters()
        except (AttributeError, OSError, self._psutil.Error):
            io = None
        if io is not None:
            self._rate(out, "proc_io", io.read_bytes, io.write_bytes, "system/proc/read_mb_s", "system/proc/write_mb_s")
        return out

    def _rate(self, out: dict[str, float], name: str, a: float, b: float, key_a: str, key_b: str) -> None:
        now = time.monotonic()
        prev = self._prev.get(name)
        self._prev[name] = (now, a, b)
        if prev is None or now <= prev[0]:
            return
        dt = now - prev[0]
        out[key_a] = max(a - prev[1], 0) / _MB / dt  # counters can wrap or reset: never negative
        out[key_b] = max(b - prev[2], 0) / _MB / dt


def _open_files(proc: Any) -> int | None:
    """Open file descriptors (files, sockets, pipes): ``num_fds`` on POSIX, handles on Windows."""
    for name in ("num_fds", "num_handles"):
        count = getattr(proc, name, None)
        if count is not None:
            try:
                return int(count())
            except Exception:  # noqa: BLE001 - access denied on some platforms
                return None
    return None
