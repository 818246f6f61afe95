"""A run's files as the query API gives them (W&B's ``run.files()``, ``run.file(name)``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from trackwell.errors import CommError

if TYPE_CHECKING:
    from trackwell.transport import Client


class File:
    """One file of a run: ``name``, ``size``, ``digest`` (SHA-256), ``updated_at``, ``uploaded``."""

    def __init__(self, client: Client, run_base: str, data: dict[str, Any]) -> None:
        self._client, self._run_base = client, run_base
        self.name: str = data["name"]
        self.size: int = int(data["size"])
        self.digest: str = data["digest"]
        self.updated_at: float = float(data["updated_at"])
        self.uploaded: bool = bool(data.get("uploaded", True))

    @property
    def url(self) -> str:
        return f"{self._client.base_url}{self._run_base}/files/{quote(self.name)}"

    def download(self, root: str | os.PathLike[str] = ".", replace: bool = False, exist_ok: bool = False) -> Path:
        """Write the file to ``root/name`` (streamed, verified against its digest) and return the
        path. An existing file is kept (``FileExistsError``, or returned as is with ``exist_ok``)
        unless ``replace``."""
        from trackwell.transport._files import download

        dest = Path(root) / self.name
        if dest.exists() and not replace:
            if exist_ok:
                return dest
            raise FileExistsError(f"{dest} exists; download(replace=True) to overwrite it")
        download(self._client, f"{self._run_base}/files/{quote(self.name)}", dest, self.digest)
        return dest

    def read(self) -> bytes:
        """The file's bytes (small files: media, configs)."""
        with self._client.stream("GET", f"{self._run_base}/files/{quote(self.name)}") as response:
            body = response.read()
            if response.status_code >= 400:
                self._client.raise_for(response)
        return bytes(body)

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"


_FILE_MEDIA = ("audio-file", "video-file", "html-file", "object3D-file")


def open_media(client: Client, run_base: str, value: Any) -> Any:
    """What a history value refers to, opened: ``trackwell.Image`` (its ``bytes``, ``to_pil()``),
    ``trackwell.Table`` (``columns``, ``data``, ``get_dataframe()``; image cells opened too),
    ``trackwell.Histogram``; a list of images as a list; the bytes of audio, video, html and 3-D
    files. Other values are returned as they are."""
    from trackwell.sdk.media import Histogram, Image, Table

    if isinstance(value, list) and value and all(isinstance(v, dict) and v.get("_type") == "image-file" for v in value):
        return [open_media(client, run_base, v) for v in value]
    kind = value.get("_type") if isinstance(value, dict) else None
    if kind == "histogram":
        return Histogram(np_histogram=(value["values"], value["bins"]))
    if kind not in ("image-file", "table-file", *_FILE_MEDIA):
        return value
    data = File(client, run_base, {"name": value["path"], "size": value.get("size", 0),
                                   "digest": value.get("sha256", ""), "updated_at": 0}).read()
    if kind == "image-file":
        return Image.from_bytes(data, value.get("caption"))
    if kind in _FILE_MEDIA:
        return data  # audio, video, html, 3-D: their bytes
    table = json.loads(data)
    rows = [[open_media(client, run_base, c) if isinstance(c, dict) else c for c in row] for row in table["data"]]
    return Table(columns=table["columns"], data=rows)


def list_files(client: Client, run_base: str) -> list[File]:
    return [File(client, run_base, f) for f in client.get(run_base + "/files")["files"]]


def one_file(client: Client, run_base: str, name: str, run_path: str) -> File:
    for f in list_files(client, run_base):
        if f.name == name:
            return f
    raise CommError(f"run {run_path} has no file {name!r}; run.files() lists its files")
