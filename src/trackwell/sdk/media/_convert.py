"""What ``log()`` makes of values that are not plain scalars: media objects become a typed
reference (their bytes staged as run files under ``media/``), histograms and short sequences
go inline, as W&B does:

- ``Image``, a list of ``Image``: files; the row holds the reference (a list of them);
- ``Table``, ``Audio``, ``Video``, ``Html``, ``Object3D``: a file each; ``Histogram``: inline;
- a list/tuple of plain values, a numpy array or a tensor: up to 32 values kept as a list, more
  numbers summarised as a 64-bin histogram (W&B's rule), so nothing W&B would keep is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackwell.sdk.files._stage import stage_bytes
from trackwell.sdk.media._files import FileMedia
from trackwell.sdk.media._histogram import Histogram, _flat
from trackwell.sdk.media._image import Image
from trackwell.sdk.media._table import Table

MAX_LIST = 32  # longer numeric sequences become histograms
_PLAIN = (bool, int, float, str, type(None))
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

Record = Callable[[str, str, int], None]  # (file name, sha256, size): journal a staged file


class MediaLogger:
    def __init__(self, run_root: Path, record: Record) -> None:
        self.run_root, self._record = run_root, record

    def __call__(self, key: str, value: Any) -> tuple[bool, Any]:
        """(True, what the row holds) for a value this knows; (False, None) otherwise."""
        if isinstance(value, Histogram):
            return True, value.to_json()
        if isinstance(value, Image):
            return True, self._image(key, value)
        if isinstance(value, Table):
            return True, self._table(key, value)
        if isinstance(value, FileMedia):
            name, _ = self._stage(value.folder, key, value.bytes, value.ext)
            return True, value.reference(name)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, Image) for v in value):
            return True, [self._image(key, v) for v in value]
        if isinstance(value, (list, tuple)):
            return _sequence(value)
        if getattr(value, "ndim", 0) and hasattr(value, "tolist"):  # numpy arrays, tensors
            return _sequence(value.tolist() if not hasattr(value, "detach") else value.detach().cpu().tolist())
        return False, None

    def _stage(self, folder: str, key: str, data: bytes, ext: str) -> tuple[str, str]:
        digest, size = stage_bytes(data, self.run_root)
        name = f"media/{folder}/{_UNSAFE.sub('_', key).strip('.') or 'media'}/{digest[:20]}.{ext}"
        self._record(name, digest, size)
        return name, digest

    def _image(self, key: str, image: Image) -> dict[str, Any]:
        name, _ = self._stage("images", key, image.bytes, image.format)
        return image.reference(name)

    def _table(self, key: str, table: Table) -> dict[str, Any]:
        cells = [[self._image(key, c) if isinstance(c, Image) else _cell(c) for c in row] for row in table.data]
        data = json.dumps({"columns": table.columns, "data": cells}, allow_nan=True).encode()
        name, digest = self._stage("tables", key, data, "table.json")
        return {"_type": Table._type, "path": name, "sha256": digest, "size": len(data),
                "ncols": len(table.columns), "nrows": len(table.data)}


def _sequence(values: list[Any] | tuple[Any, ...]) -> tuple[bool, Any]:
    flat = _flat(values)
    if not all(isinstance(v, _PLAIN) for v in flat):
        return False, None
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat)
    if len(flat) > MAX_LIST and numeric:
        return True, Histogram(flat).to_json()
    return True, _cell(values)


def _cell(value: Any) -> Any:
    """A table cell or a kept list as plain JSON-shaped data (numpy scalars unwrapped)."""
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, _PLAIN):
        return value
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", 1) == 0:
        return item()
    tolist = getattr(value, "tolist", None)
    return tolist() if tolist is not None else str(value)
