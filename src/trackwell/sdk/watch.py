"""``run.watch(model)`` (W&B's ``wandb.watch``): histograms of a PyTorch model's parameters
and/or gradients, logged every ``log_freq`` steps as ``parameters/<name>`` and
``gradients/<name>``, merged into the row the script logs next (``commit=False``).

torch is imported lazily and only used through the model it is handed. A histogram is W&B's
dict shape ``{"_type": "histogram", "values": [counts], "bins": [edges]}`` (64 bins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trackwell.sdk.errors import UsageError

LOG_MODES = ("gradients", "parameters", "all")
BINS = 64


def histogram(counts: list[float], lo: float, hi: float) -> dict[str, Any]:
    """W&B's histogram dict: ``len(counts)`` bins evenly between ``lo`` and ``hi``."""
    n = len(counts)
    width = (hi - lo) / n if n else 0.0
    return {"_type": "histogram", "values": [int(c) for c in counts],
            "bins": [lo + i * width for i in range(n)] + [hi]}


def tensor_histogram(tensor: Any) -> dict[str, Any] | None:
    """The histogram of a torch tensor's finite values (None when it has none)."""
    import torch

    flat = tensor.detach().flatten().to("cpu", torch.float64)
    flat = flat[torch.isfinite(flat)]
    if flat.numel() == 0:
        return None
    lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:  # one value: one bin around it, as W&B draws it
        lo, hi = lo - 0.5, hi + 0.5
    return histogram(torch.histc(flat, bins=BINS, min=lo, max=hi).tolist(), lo, hi)


class Watcher:
    """The hooks on one model; ``remove()`` takes them off (``run.unwatch``)."""

    def __init__(self, model: Any, log: str | None, log_freq: int, emit: Callable[[dict[str, Any]], None],
                 prefix: str = "") -> None:
        if log is not None and log not in LOG_MODES:
            raise UsageError(f"watch(log={log!r}): log must be one of {', '.join(LOG_MODES)} or None")
        if not isinstance(log_freq, int) or isinstance(log_freq, bool) or log_freq < 1:
            raise UsageError(f"watch(log_freq={log_freq!r}): log_freq must be a positive integer")
        if not callable(getattr(model, "named_parameters", None)) or not callable(
                getattr(model, "register_forward_hook", None)):
            raise UsageError(f"watch() takes PyTorch modules (torch.nn.Module), not {type(model).__name__}")
        self.model, self.log, self.log_freq, self._emit, self._prefix = model, log, log_freq, emit, prefix
        self._handles: list[Any] = []
        self._forwards = 0
        self._backwards: dict[str, int] = {}
        if log in ("parameters", "all"):
            self._handles.append(model.register_forward_hook(self._after_forward))
        if log in ("gradients", "all"):
            for name, param in model.named_parameters():
                if param.requires_grad:
                    self._handles.append(param.register_hook(self._gradient_hook(name)))

    def _after_forward(self, _module: Any, _inputs: Any, _output: Any) -> None:
        self._forwards += 1
        if self._forwards % self.log_freq:
            return
        row = {}
        for name, param in self.model.named_parameters():
            shaped = tensor_histogram(param)
            if shaped is not None:
                row[f"parameters/{self._prefix}{name}"] = shaped
        if row:
            self._emit(row)

    def _gradient_hook(self, name: str) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            count = self._backwards[name] = self._backwards.get(name, 0) + 1
            if count % self.log_freq == 0:
                shaped = tensor_histogram(grad)
                if shaped is not None:
                    self._emit({f"gradients/{self._prefix}{name}": shaped})
        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
