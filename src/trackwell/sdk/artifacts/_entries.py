"""An artifact's entries on the client: files hashed as they are added, references recorded
with what identifies them (a SHA-256 for file://, the ETag for s3:// and http(s)://)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from trackwell.schema.artifacts import Entry, check_entry_path

CHUNK = 1 << 20


@dataclass
class LocalEntry:
    """``path`` in the artifact; ``local``: where its bytes are on this machine (None: only on the server)."""

    path: str
    digest: str
    size: int
    ref: str | None = None
    local: str | None = None

    def wire(self) -> Entry:
        return Entry(digest=self.digest, size=self.size, ref=self.ref)

    def as_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "size": self.size, "ref": self.ref, "local": self.local}


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex digest, size) of a file, read a chunk at a time."""
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def entry_name(name: str | None, default: str) -> str:
    return check_entry_path((name if name is not None else default).replace(os.sep, "/"))


def file_entry(local: str | os.PathLike[str], name: str) -> LocalEntry:
    digest, size = sha256_file(local)
    return LocalEntry(name, digest, size, local=str(Path(local).resolve()))


def dir_entries(local: str | os.PathLike[str], prefix: str | None) -> list[LocalEntry]:
    root = Path(local)
    if not root.is_dir():
        raise ValueError(f"add_dir: {str(local)!r} is not a directory")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            rel = full.relative_to(root).as_posix()
            found.append(file_entry(full, entry_name(f"{prefix}/{rel}" if prefix else rel, rel)))
    return found


def reference_entries(uri: str, name: str | None, checksum: bool) -> list[LocalEntry]:
    """Entries for a reference: file:// (a file or a directory), s3:// (an object or a prefix),
    http(s):// (one URL). Recorded, never copied; ``checksum=False`` skips reading file:// bytes."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return _file_refs(uri, Path(unquote(parts.path)), name, checksum)
    if parts.scheme == "s3":
        return _s3_refs(uri, parts.netloc, parts.path.lstrip("/"), name)
    if parts.scheme in ("http", "https"):
        return [_http_ref(uri, name)]
    raise ValueError(f"add_reference: {uri[:200]!r} is not a file://, s3:// or http(s):// URI")


def _file_refs(uri: str, path: Path, name: str | None, checksum: bool) -> list[LocalEntry]:
    if path.is_dir():
        out = []
        for entry in dir_entries(path, name):
            rel = Path(str(entry.local)).relative_to(path.resolve()).as_posix()
            if not checksum:
                entry.digest = f"size:{entry.size}"
            out.append(LocalEntry(entry.path, entry.digest, entry.size, ref=uri.rstrip("/") + "/" + rel))
        return out
    if not path.is_file():
        raise ValueError(f"add_reference: {uri[:200]!r} names no file or directory")
    digest, size = sha256_file(path) if checksum else (f"size:{path.stat().st_size}", path.stat().st_size)
    return [LocalEntry(entry_name(name, path.name), digest, size, ref=uri)]


def _s3_refs(uri: str, bucket: str, key: str, name: str | None) -> list[LocalEntry]:
    try:
        import boto3
    except ImportError:
        raise ImportError("s3:// references need boto3: pip install 'trackwell[s3]'") from None
    s3 = boto3.client("s3")
    found = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
    for page in pages:
        for obj in page.get("Contents", []):
            if obj["Key"] == key:  # the object itself
                rel = (name or key.rsplit("/", 1)[-1])
            elif obj["Key"].startswith(key.rstrip("/") + "/"):
                rel = obj["Key"][len(key.rstrip("/")) + 1:]
                rel = f"{name}/{rel}" if name else rel
            else:
                continue
            found.append(LocalEntry(entry_name(rel, rel), obj["ETag"].strip('"'), int(obj["Size"]),
                                    ref=f"s3://{bucket}/{obj['Key']}"))
    if not found:
        raise ValueError(f"add_reference: no object at {uri[:200]!r}")
    return found


def _http_ref(uri: str, name: str | None) -> LocalEntry:
    import httpx

    head = httpx.head(uri, follow_redirects=True, timeout=30)
    head.raise_for_status()
    etag = head.headers.get("etag", "").strip('"') or f"url:{hashlib.sha256(uri.encode()).hexdigest()}"
    size = int(head.headers.get("content-length", "0") or 0)
    default = urlsplit(uri).path.rsplit("/", 1)[-1] or "index"
    return LocalEntry(entry_name(name, default), etag, size, ref=uri)
