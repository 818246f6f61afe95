"""The sampler's parts on this machine: psutil's readings, NVML's (parsed from NVML's own
structs; read from a device only where one exists), metadata helpers, console line splitting."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from trackwell.sdk.console._lines import MAX_LINE, LineBuffer
from trackwell.sdk.system._gpu import GpuProbe, gpu_values
from trackwell.sdk.system._metadata import git_info, strip_credentials
from trackwell.sdk.system._probes import HostProbe


def test_host_probe_reads_this_process_and_machine(tmp_path: Path) -> None:
    probe = HostProbe(str(tmp_path), per_core=True)
    first = probe.sample()
    c0, t0 = time.process_time(), time.monotonic()
    assert "system/disk/read_mb_s" not in first  # no rate without a previous reading
    ballast = bytearray(64 * 1024 * 1024)  # 64 MiB the next sample's RSS must show
    ballast[::4096] = b"x" * len(ballast[::4096])
    end = time.process_time() + 0.2
    while time.process_time() < end:  # busy: this process's CPU % goes up
        pass
    second = probe.sample()
    busy = 100 * (time.process_time() - c0) / (time.monotonic() - t0)  # what this process used, % of a core
    assert second["system/proc/rss_mb"] - first["system/proc/rss_mb"] > 50
    assert 0.5 * busy < second["system/proc/cpu_percent"] < 1.5 * busy + 5  # a loaded box: not 100
    assert second["system/proc/open_files"] >= 3 and second["system/proc/threads"] >= 1
    cores = [k for k in second if k.startswith("system/cpu/")]
    assert len(cores) == os.cpu_count() and all(0 <= second[k] <= 100 for k in cores)
    assert 0 < second["system/memory/percent"] < 100 and second["system/memory/available_mb"] > 0
    assert second["system/disk/free_gb"] > 0 and 0 < second["system/disk/percent"] <= 100
    for key in ("system/disk/read_mb_s", "system/disk/write_mb_s", "system/network/recv_mb_s",
                "system/network/sent_mb_s", "system/proc/read_mb_s"):
        assert second[key] >= 0
    with open(tmp_path / "written", "wb") as f:  # 8 MiB to the disk: this process's write rate
        f.write(os.urandom(8 * 1024 * 1024))
        f.flush()
        os.fsync(f.fileno())
    assert probe.sample()["system/proc/write_mb_s"] > 0
    del ballast


def test_gpu_values_from_nvml_structs() -> None:
    pynvml = pytest.importorskip("pynvml", reason="nvidia-ml-py (the gpu extra) is not installed")
    util = pynvml.c_nvmlUtilization_t()
    util.gpu, util.memory = 87, 40
    mem = pynvml.c_nvmlMemory_t()
    mem.total, mem.used = 16 * 1024**3, 4 * 1024**3
    got = gpu_values(1, {"util": util, "memory": mem, "temp": 71, "power_mw": 150_000, "power_limit_mw": 300_000,
                         "sm_clock": 1410, "mem_clock": None})  # None: not supported by this device
    assert got == {"system/gpu/1/util_percent": 87.0, "system/gpu/1/memory_util_percent": 40.0,
                   "system/gpu/1/memory_used_mb": 4096.0, "system/gpu/1/memory_total_mb": 16384.0,
                   "system/gpu/1/memory_percent": 25.0, "system/gpu/1/temp_c": 71.0,
                   "system/gpu/1/power_w": 150.0, "system/gpu/1/power_limit_w": 300.0,
                   "system/gpu/1/power_percent": 50.0, "system/gpu/1/sm_clock_mhz": 1410.0}


def test_nvml_devices_are_sampled_where_there_are_some() -> None:
    probe, why = GpuProbe.open()
    if probe is None:
        assert why.startswith(("NVML is not available", "nvidia-ml-py is not installed"))
        pytest.skip(f"no NVIDIA GPU to sample here: {why}")
    try:
        sample = probe.sample()
        assert probe.count == 0 or "system/gpu/0/memory_total_mb" in sample
        assert probe.describe()["gpu_count"] == probe.count
    finally:
        probe.close()


def test_remote_urls_lose_their_credentials() -> None:
    assert strip_credentials("https://user:ghp_secret@github.com/a/b.git") == "https://github.com/a/b.git"
    assert strip_credentials("https://token@host/x") == "https://host/x"
    assert strip_credentials("git@github.com:a/b.git") == "git@github.com:a/b.git"  # ssh: no secret in it
    assert strip_credentials("https://github.com/a/b.git") == "https://github.com/a/b.git"


def test_git_info_outside_a_checkout_is_empty(tmp_path: Path) -> None:
    assert git_info(tmp_path) == {}


def test_lines_keep_progress_bars_last_state_and_cut_endless_lines() -> None:
    buf = LineBuffer()
    assert buf.feed("a\nb") == ["a"]
    assert buf.feed("c\r\n") == ["bc"]  # \r\n is a line end
    assert buf.feed("10%\r20%\r") == [] and buf.feed("30%\n") == ["30%"]
    assert buf.feed("x" * (2 * MAX_LINE + 5)) == ["x" * MAX_LINE] * 2
    assert buf.rest() == ["x" * 5] and buf.rest() == []
