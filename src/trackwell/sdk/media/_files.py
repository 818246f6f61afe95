"""Media stored as one file each, as W&B's: ``Audio`` (WAV), ``Video`` (a file, or frames as a
GIF), ``Html`` and ``Object3D`` (a mesh file, or a point cloud as JSON). The history row holds
``{"_type": "<kind>-file", "path", "sha256", "size", ...}``; the file is a run file under
``media/<kind>/``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import wave
from typing import Any


class FileMedia:
    _type = ""
    folder = ""

    def _set(self, data: bytes, ext: str, caption: str | None = None, **extra: Any) -> None:
        self.bytes, self.ext, self.caption, self.extra = data, ext, caption, extra
        self.sha256 = hashlib.sha256(data).hexdigest()

    def reference(self, path: str) -> dict[str, Any]:
        ref: dict[str, Any] = {"_type": self._type, "path": path, "sha256": self.sha256, "size": len(self.bytes),
                               **self.extra}
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self.bytes)} bytes {self.ext}>"


def _read(path: Any) -> tuple[bytes, str]:
    with open(os.fspath(path), "rb") as f:
        return f.read(), os.path.splitext(os.fspath(path))[1].lstrip(".").lower()


class Audio(FileMedia):
    """A sound: a file (wav, mp3, ogg, flac as given) or samples (a 1-d or samples x channels
    array of floats in [-1, 1] or int16) with ``sample_rate``, stored as 16-bit WAV."""

    _type, folder = "audio-file", "audio"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            data, ext = _read(data_or_path)
            self._set(data, ext, caption)
            return
        if sample_rate is None:
            raise ValueError("Audio(samples) needs sample_rate=")
        import numpy as np

        samples = np.asarray(data_or_path)
        if samples.dtype.kind == "f":
            samples = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        samples = samples.astype("<i2")
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(samples.tobytes())
        self._set(out.getvalue(), "wav", caption, sample_rate=int(sample_rate),
                  duration=len(samples) / float(sample_rate))


class Video(FileMedia):
    """A video: a file (mp4, webm, gif, ... as given) or frames (time x channels x height x width,
    W&B's layout, uint8) written as an animated GIF at ``fps`` (Pillow)."""

    _type, folder = "video-file", "videos"

    def __init__(self, data_or_path: Any, caption: str | None = None, fps: int = 4,
                 format: str | None = None) -> None:  # noqa: A002 - W&B's name
        if isinstance(data_or_path, (str, os.PathLike)):
            data, ext = _read(data_or_path)
            self._set(data, format or ext, caption)
            return
        if format not in (None, "gif"):
            raise ValueError(f"Video(frames, format={format!r}): frames are written as gif")
        import numpy as np

        from trackwell.sdk.media._image import _pil

        frames = np.asarray(data_or_path)
        if frames.ndim != 4:
            raise ValueError(f"Video frames are time x channels x height x width, not shape {frames.shape}")
        pil = _pil()
        images = [pil.fromarray(np.ascontiguousarray(f.transpose(1, 2, 0).squeeze()).astype(np.uint8)) for f in frames]
        out = io.BytesIO()
        images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
        self._set(out.getvalue(), "gif", caption, width=images[0].width, height=images[0].height,
                  frames=len(images), fps=fps)


class Html(FileMedia):
    """HTML: a string or a file (``inject``: wrap a fragment in a page, as W&B does)."""

    _type, folder = "html-file", "html"

    def __init__(self, data: Any, inject: bool = True) -> None:
        text = _read(data)[0].decode() if isinstance(data, os.PathLike) or (
            isinstance(data, str) and data.endswith((".html", ".htm")) and os.path.isfile(data)) else str(data)
        if inject and "<html" not in text.lower():
            text = f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{text}</body></html>'
        self._set(text.encode(), "html")


class Object3D(FileMedia):
    """A 3-D object: a file (obj, gltf, glb, stl, pts.json as given) or a point cloud (N x 3 xyz,
    N x 4 xyz + category, N x 6 xyz + rgb) stored as W&B's ``pts.json``."""

    _type, folder = "object3D-file", "object3D"

    def __init__(self, data_or_path: Any, caption: str | None = None) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            data, ext = _read(data_or_path)
            self._set(data, ext, caption)
            return
        import numpy as np

        points = np.asarray(data_or_path, dtype=float)
        if points.ndim != 2 or points.shape[1] not in (3, 4, 6):
            raise ValueError(f"Object3D points are N x 3, 4 or 6, not shape {points.shape}")
        self._set(json.dumps(points.tolist()).encode(), "pts.json", caption, points=len(points))
