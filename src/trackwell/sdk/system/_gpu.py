"""NVIDIA GPUs through NVML (``nvidia-ml-py``, the ``gpu`` extra), imported only when sampling
starts. Without the package, the driver's library or a device, ``GpuProbe.open`` says why and
the sampler goes on without GPU values. AMD (ROCm SMI) and Apple silicon are not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MB = 1024.0 * 1024.0


def gpu_values(index: int, raw: dict[str, Any]) -> dict[str, float]:
    """One device's ``system/gpu/<i>/...`` values from NVML's answers (``None``: not supported
    by that device): utilization structs, memory in bytes, power in milliwatts, clocks in MHz."""
    p = f"system/gpu/{index}/"
    out: dict[str, float] = {}
    util, mem = raw.get("util"), raw.get("memory")
    if util is not None:
        out[p + "util_percent"] = float(util.gpu)
        out[p + "memory_util_percent"] = float(util.memory)
    if mem is not None:
        out[p + "memory_used_mb"] = mem.used / _MB
        out[p + "memory_total_mb"] = mem.total / _MB
        if mem.total:
            out[p + "memory_percent"] = 100.0 * mem.used / mem.total
    for name, key, scale in (("temp", "temp_c", 1.0), ("power_mw", "power_w", 1e-3),
                             ("power_limit_mw", "power_limit_w", 1e-3), ("sm_clock", "sm_clock_mhz", 1.0),
                             ("mem_clock", "memory_clock_mhz", 1.0)):
        value = raw.get(name)
        if value is not None:
            out[p + key] = float(value) * scale
    if p + "power_w" in out and out.get(p + "power_limit_w"):
        out[p + "power_percent"] = 100.0 * out[p + "power_w"] / out[p + "power_limit_w"]
    return out


class GpuProbe:
    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml
        self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]

    @classmethod
    def open(cls) -> tuple[GpuProbe | None, str]:
        """The probe, or None and why there is none (said in the run's metadata)."""
        try:
            import pynvml
        except ImportError:
            return None, "nvidia-ml-py is not installed (pip install 'trackwell[gpu]')"
        try:
            pynvml.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound, _DriverNotLoaded, ...
            return None, f"NVML is not available: {exc}"
        try:
            return cls(pynvml), "nvml"
        except Exception as exc:  # noqa: BLE001
            pynvml.nvmlShutdown()
            return None, f"NVML could not list the GPUs: {exc}"

    @property
    def count(self) -> int:
        return len(self._handles)

    def sample(self) -> dict[str, float]:
        n = self._nvml
        out: dict[str, float] = {}
        for i, h in enumerate(self._handles):
            out.update(gpu_values(i, {
                "util": self._ask(n.nvmlDeviceGetUtilizationRates, h),
                "memory": self._ask(n.nvmlDeviceGetMemoryInfo, h),
                "temp": self._ask(n.nvmlDeviceGetTemperature, h, n.NVML_TEMPERATURE_GPU),
                "power_mw": self._ask(n.nvmlDeviceGetPowerUsage, h),
                "power_limit_mw": self._ask(n.nvmlDeviceGetEnforcedPowerLimit, h),
                "sm_clock": self._ask(n.nvmlDeviceGetClockInfo, h, n.NVML_CLOCK_SM),
                "mem_clock": self._ask(n.nvmlDeviceGetClockInfo, h, n.NVML_CLOCK_MEM),
            }))
        return out

    def describe(self) -> dict[str, Any]:
        """Models, memory and driver, for the run's metadata."""
        n = self._nvml
        devices = []
        for h in self._handles:
            mem = self._ask(n.nvmlDeviceGetMemoryInfo, h)
            devices.append({"name": _text(self._ask(n.nvmlDeviceGetName, h)),
                            "memory_mb": round(mem.total / _MB) if mem is not None else None})
        return {"gpu_count": len(devices), "gpus": devices,
                "gpu_driver": _text(self._ask(n.nvmlSystemGetDriverVersion)),
                "cuda_driver": self._ask(n.nvmlSystemGetCudaDriverVersion)}

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001, S110 - shutting down anyway
            pass

    def _ask(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - NVMLError_NotSupported on this device: leave it out
            return None


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
