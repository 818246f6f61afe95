"""``Image``: W&B's. Made from a numpy array (HxW, HxWx3, HxWx4; floats in [0, 1] are scaled
to 0..255 as W&B does), a PIL image or an image file; encoded as PNG (or JPEG) when made. It is
stored as a run file under ``media/images/`` and the history row holds
``{"_type": "image-file", "path", "sha256", "size", "width", "height", "format", "caption"}``."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}


def _pil() -> Any:
    try:
        from PIL import Image as PILImage
    except ModuleNotFoundError:
        raise ModuleNotFoundError("trackwell.Image needs Pillow: pip install 'trackwell[media]'",
                                  name="PIL") from None
    return PILImage


class Image:
    _type = "image-file"

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: str | None = None,
                 file_type: str | None = None) -> None:
        self.caption = None if caption is None else str(caption)
        pil = _pil()
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            with open(path, "rb") as f:
                raw = f.read()
            image = pil.open(io.BytesIO(raw))
            kind = (image.format or "").upper()
            if file_type is None and kind in ("PNG", "JPEG"):
                self._set(raw, image.size, "png" if kind == "PNG" else "jpg")  # stored as it is
                return
        elif isinstance(data_or_path, pil.Image):
            image = data_or_path
        elif isinstance(data_or_path, Image):
            self._set(data_or_path.bytes, (data_or_path.width, data_or_path.height), data_or_path.format)
            self.caption = caption if caption is not None else data_or_path.caption
            return
        else:
            image = pil.fromarray(_as_pixels(data_or_path), mode=mode)
        ext = (file_type or "png").lower().lstrip(".")
        if ext not in _FORMATS:
            raise ValueError(f"Image(file_type={file_type!r}): use png or jpg")
        if _FORMATS[ext] == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=_FORMATS[ext])
        self._set(out.getvalue(), image.size, "jpg" if ext == "jpeg" else ext)

    def _set(self, data: bytes, size: tuple[int, int], fmt: str) -> None:
        self.bytes, (self.width, self.height), self.format = data, size, fmt
        self.sha256 = hashlib.sha256(data).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, caption: str | None = None) -> Image:
        """An image read back from the server (``Run.media``)."""
        image = cls.__new__(cls)
        opened = _pil().open(io.BytesIO(data))
        image._set(data, opened.size, "png" if opened.format == "PNG" else "jpg")
        image.caption = caption
        return image

    def to_pil(self) -> Any:
        return _pil().open(io.BytesIO(self.bytes))

    def reference(self, path: str) -> dict[str, Any]:
        ref: dict[str, Any] = {"_type": self._type, "path": path, "sha256": self.sha256, "size": len(self.bytes),
                               "width": self.width, "height": self.height, "format": self.format}
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref

    def __repr__(self) -> str:
        return f"<Image {self.width}x{self.height} {self.format}>"


def _as_pixels(data: Any) -> Any:
    import numpy as np

    array = np.asarray(data.detach().cpu() if hasattr(data, "detach") else data)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # channels first (torch's CHW) to HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"Image() takes HxW, HxWx3 or HxWx4 pixels, not an array of shape {array.shape}")
    if array.dtype.kind == "f":
        if array.size and array.min() >= 0 and array.max() <= 1:
            array = array * 255  # W&B: floats in [0, 1] are intensities
        array = array.clip(0, 255)
    return array.astype(np.uint8)
