"""Artifact rules both sides apply: names, aliases, versions, entry paths, and the manifest digest.

The server recomputes a version's digest from the manifest it receives (it never trusts the
client's), so the two must compute it the same way: this module is that one definition.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import msgspec

MAX_NAME_CHARS = 128
MAX_ALIAS_CHARS = 128
MAX_TYPE_CHARS = 64
MAX_ENTRY_PATH_CHARS = 1024
MAX_ENTRIES = 1_000_000
MAX_ALIASES = 100
LATEST = "latest"

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ALIAS = re.compile(r"[A-Za-z0-9_.\-]+")
_VERSION = re.compile(r"v(\d{1,9})")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class InvalidArtifact(ValueError):
    """What the caller sent cannot be an artifact, an alias or a path; the message says why."""


def check_name(name: Any, what: str = "artifact name") -> str:
    if type(name) is not str or not name:
        raise InvalidArtifact(f"{what} must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME_CHARS or not _NAME.fullmatch(name):
        raise InvalidArtifact(f"{what} {name[:MAX_NAME_CHARS]!r} may hold only letters, digits, '_', '-' and '.' "
                              f"(at most {MAX_NAME_CHARS} characters)")
    return name


def check_type(kind: Any) -> str:
    if type(kind) is not str or not kind:
        raise InvalidArtifact(f"artifact type must be a non-empty string such as 'dataset' or 'model', got {kind!r}")
    if len(kind) > MAX_TYPE_CHARS or not _NAME.fullmatch(kind):
        raise InvalidArtifact(f"artifact type {kind[:MAX_TYPE_CHARS]!r} may hold only letters, digits, '_', '-' "
                              f"and '.' (at most {MAX_TYPE_CHARS} characters)")
    return kind


def check_alias(alias: Any) -> str:
    if type(alias) is not str or not alias or len(alias) > MAX_ALIAS_CHARS or not _ALIAS.fullmatch(alias):
        raise InvalidArtifact(f"alias {str(alias)[:MAX_ALIAS_CHARS]!r} may hold only letters, digits, '_', '-' and '.' "
                              f"(1 to {MAX_ALIAS_CHARS} characters)")
    if _VERSION.fullmatch(alias):
        raise InvalidArtifact(f"alias {alias!r} looks like a version number; versions are named by the server")
    return alias


def check_aliases(aliases: Any) -> list[str]:
    if aliases is None:
        return []
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple)):
        raise InvalidArtifact(f"aliases must be a list of strings, got {type(aliases).__name__}")
    if len(aliases) > MAX_ALIASES:
        raise InvalidArtifact(f"{len(aliases)} aliases given; at most {MAX_ALIASES}")
    return list(dict.fromkeys(check_alias(a) for a in aliases))


def version_index(selector: str) -> int | None:
    """``vN`` -> N; an alias -> None."""
    found = _VERSION.fullmatch(selector)
    return int(found.group(1)) if found else None


def check_selector(selector: Any) -> str:
    """A version (``v3``) or an alias (``latest``, ``prod``)."""
    if type(selector) is str and version_index(selector) is not None:
        return selector
    if type(selector) is str and selector and len(selector) <= MAX_ALIAS_CHARS and _ALIAS.fullmatch(selector):
        return selector
    raise InvalidArtifact(f"version {str(selector)[:MAX_ALIAS_CHARS]!r} is neither 'vN' nor an alias")


def split_name(spec: str) -> tuple[str, str]:
    """``name:alias`` / ``name:v3`` / ``name`` -> (name, selector); a bare name means ``latest``."""
    name, _, selector = spec.partition(":")
    return check_name(name), check_selector(selector or LATEST)


def check_entry_path(path: Any) -> str:
    """A relative POSIX path inside the artifact: no empty, '.' or '..' part, no leading '/'."""
    if type(path) is not str or not path or len(path) > MAX_ENTRY_PATH_CHARS:
        raise InvalidArtifact(f"entry path {str(path)[:200]!r} must be 1 to {MAX_ENTRY_PATH_CHARS} characters")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path or "\0" in path:
        raise InvalidArtifact(f"entry path {path[:200]!r} must be relative, '/'-separated, without '.', '..' or "
                              "empty parts")
    return path


def is_sha256(text: Any) -> bool:
    return type(text) is str and _SHA256.fullmatch(text) is not None


class Entry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One file of a manifest: stored (``digest`` is the SHA-256 of its bytes, kept in the blob
    store) or a reference (``ref`` is its URI; ``digest`` what identified it: a SHA-256, an ETag)."""

    digest: str
    size: int
    ref: str | None = None


def check_manifest(entries: dict[str, Entry]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise InvalidArtifact(f"the manifest has {len(entries)} entries; at most {MAX_ENTRIES}")
    for path, entry in entries.items():
        check_entry_path(path)
        if not 0 <= entry.size < 2**63:
            raise InvalidArtifact(f"entry {path[:200]!r}: size {entry.size} is not a byte count")
        if entry.ref is None and not is_sha256(entry.digest):
            raise InvalidArtifact(f"entry {path[:200]!r}: digest {entry.digest[:80]!r} is not a SHA-256 hex digest")
        if entry.ref is not None and (not entry.ref or len(entry.ref) > 4096 or "\0" in entry.ref
                                      or len(entry.digest) > 256):
            raise InvalidArtifact(f"entry {path[:200]!r}: reference {entry.ref[:200]!r} or its digest is malformed")


def manifest_digest(entries: dict[str, Entry]) -> str:
    """SHA-256 over the sorted (path, digest, size, ref) of every entry: the version's identity.
    Description and metadata are not part of it (W&B's rule): the same files are the same version."""
    rows = [[path, e.digest, e.size, e.ref or ""] for path, e in sorted(entries.items())]
    return hashlib.sha256(msgspec.json.encode(rows)).hexdigest()
