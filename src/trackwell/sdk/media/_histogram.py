"""``Histogram``: W&B's, stored inline in the history row as ``{"_type": "histogram",
"values": counts, "bins": edges}`` (no file). Binning is plain Python, so a histogram of a list
needs no numpy; ``np_histogram=`` takes numpy's ``(counts, edges)``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

MAX_BINS = 512


class Histogram:
    _type = "histogram"

    def __init__(self, sequence: Iterable[Any] | None = None, np_histogram: tuple[Any, Any] | None = None,
                 num_bins: int = 64) -> None:
        self.histogram: list[int | float]
        self.bins: list[float]
        if np_histogram is not None:
            counts, edges = np_histogram
            self.histogram = [_num(c) for c in _flat(counts)]
            self.bins = [float(e) for e in _flat(edges)]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError(f"np_histogram has {len(self.histogram)} counts and {len(self.bins)} edges; "
                                 "edges must be one more than counts (numpy.histogram's shape)")
        elif sequence is not None:
            if not isinstance(num_bins, int) or not 1 <= num_bins <= MAX_BINS:
                raise ValueError(f"Histogram(num_bins={num_bins!r}): give 1 to {MAX_BINS} bins")
            self.histogram, self.bins = _bin([float(v) for v in _flat(sequence)], num_bins)
        else:
            raise ValueError("Histogram() needs a sequence or np_histogram=(counts, edges)")
        if len(self.histogram) > MAX_BINS:
            raise ValueError(f"a histogram has at most {MAX_BINS} bins, not {len(self.histogram)}")

    def to_json(self) -> dict[str, Any]:
        return {"_type": self._type, "values": self.histogram, "bins": self.bins}

    def __repr__(self) -> str:
        return f"<Histogram {len(self.histogram)} bins>"


def _num(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _flat(values: Any) -> list[Any]:
    tolist = getattr(values, "tolist", None)  # numpy arrays, torch tensors: plain lists, any shape
    values = tolist() if tolist is not None else values
    out: list[Any] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _bin(values: list[float], n: int) -> tuple[list[int | float], list[float]]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return [0] * n, [float(i) for i in range(n + 1)]
    lo, hi = min(finite), max(finite)
    if lo == hi:  # numpy's rule for a single value: the range lo - 0.5 .. lo + 0.5
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / n
    counts: list[int | float] = [0] * n
    for v in finite:
        i = int((v - lo) / width)
        counts[min(max(i, 0), n - 1)] += 1  # the last edge belongs to the last bin
    return counts, [lo + i * width for i in range(n)] + [hi]
