"""Value validation for log(), config and summary: off the fast path only.

``log()`` accepts a row whose keys are str and values plain scalars with a type check per value;
anything else comes here to be flattened ("/"-joined nested dicts), unwrapped (numpy/torch
scalars via ``.item()``, without importing either) or skipped with one warning per key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trackwell.sdk.errors import warn

PLAIN = frozenset((float, int, str, bool, type(None)))
_BASES = (bool, int, float, str)  # bool first: it is an int


def scalar(value: Any) -> tuple[bool, Any]:
    """(ok, plain value) for a loggable scalar; (False, None) otherwise."""
    if value is None or type(value) in PLAIN:
        return True, value
    for base in _BASES:  # subclasses: numpy.float64 is a float, IntEnum an int
        if isinstance(value, base):
            return True, base(value)
    item = getattr(value, "item", None)
    if item is not None and (getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ()):
        try:
            plain = item()
        except Exception:  # noqa: BLE001 - a foreign object's .item(); treat as unsupported
            return False, None
        if plain is None or type(plain) in PLAIN:
            return True, plain
    return False, None


class RowNormalizer:
    """Flattens and validates log() rows; remembers which keys it already warned about.
    ``media`` (set by a recording run) turns media, histograms and sequences into what the row
    holds: ``(True, value)``, or ``(False, None)`` for a value it does not know."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self._warned: set[str] = set()
        self.media: Callable[[str, Any], tuple[bool, Any]] | None = None

    def __call__(self, data: Mapping[Any, Any]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise TypeError(f"log() takes a dict of metric name -> value, not {type(data).__name__}")
        out: dict[str, Any] = {}
        self._flatten(data, "", out)
        return out

    def _flatten(self, data: Mapping[Any, Any], prefix: str, out: dict[str, Any]) -> None:
        for k, v in data.items():
            key = prefix + (k if type(k) is str else str(k))
            if isinstance(v, Mapping):
                if "_type" in v:  # a W&B-shaped value (``{"_type": "histogram", ...}``): one value
                    out[key] = plain_value(v, f"log() key {key!r}", self.strict)
                else:
                    self._flatten(v, key + "/", out)
                continue
            ok, plain = scalar(v)
            if not ok and self.media is not None:
                ok, plain = self.media(key, v)
            if ok:
                out[key] = plain
            else:
                self._unsupported(key, v)

    def _unsupported(self, key: str, value: Any) -> None:
        what = f"log(): key {key!r} has a value of type {type(value).__module__}.{type(value).__qualname__}"
        hint = ("log numbers, bools, strings, None, lists, numpy arrays or trackwell.Image/Table/Histogram "
                "(numpy/torch scalars are unwrapped with .item())")
        if self.strict:
            raise TypeError(f"{what}; {hint}")
        if key not in self._warned:
            self._warned.add(key)
            warn(f"{what}, which trackwell cannot record; skipped (warned once per key). "
                          f"{hint}")


def plain_value(value: Any, where: str, strict: bool) -> Any:
    """A config/summary value made msgpack-safe: containers recursed, scalars unwrapped.

    Unknown objects become their ``str()`` (W&B's leniency) unless strict.
    """
    if isinstance(value, Mapping):
        return {str(k): plain_value(v, f"{where}.{k}", strict) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_value(v, f"{where}[{i}]", strict) for i, v in enumerate(value)]
    ok, plain = scalar(value)
    if ok:
        if type(plain) is int and not -(2**63) <= plain < 2**64:
            return float(plain)  # msgpack ints stop at 64 bits
        return plain
    tolist = getattr(value, "tolist", None)  # numpy arrays, torch tensors
    if tolist is not None:
        try:
            return plain_value(tolist(), where, strict)
        except Exception:  # noqa: BLE001 - foreign object; fall through to str()
            pass
    if strict:
        raise TypeError(f"{where}: value of type {type(value).__qualname__} cannot be recorded; "
                        "use numbers, strings, bools, None, lists or dicts")
    return str(value)


def past_the_end(run_id: str, row: dict[str, Any], step: int) -> ValueError:
    return ValueError(f"log(step={step}) for keys {sorted(row)}: run {run_id} cannot go past step 2**62 "
                      "(the server's limit); nothing was logged")


def as_step(step: Any) -> int:
    """A step given to ``log``: ints and numpy/torch integer scalars, never floats."""
    try:
        return int(step.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"log(step={step!r}): step must be an integer") from None


_INT64_MIN, _UINT64_END = -(2**63), 2**64


def repair_record(record: Any) -> bool:
    """Make a journal record's payload msgpack-safe in place (the writer's last resort before
    a Skipped placeholder); True if a string had to change."""
    changed = [False]
    for field in record.__struct_fields__:
        value = getattr(record, field)
        if isinstance(value, (dict, list, str)):  # never seq/ts/step: their types are fixed
            setattr(record, field, _plain(value, changed))
    return changed[0]


def _plain(value: Any, changed: list[bool]) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value
        fixed = value.encode("utf-8", "replace").decode("utf-8")
        if fixed != value:
            changed[0] = True
        return fixed
    if isinstance(value, dict):
        return {_plain(k, changed) if isinstance(k, str) else k: _plain(v, changed) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, changed) for v in value]
    if type(value) is int and not _INT64_MIN <= value < _UINT64_END:
        return float(value)  # msgpack ints stop at 64 bits; a float keeps the magnitude
    return value
