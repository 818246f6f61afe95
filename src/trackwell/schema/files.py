"""Run file names and media references: rules shared by the SDK and the server."""

from __future__ import annotations

import re

MAX_FILE_NAME_CHARS = 1024
SHA256 = re.compile(r"[0-9a-f]{64}")


def file_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a run file (None: it can). A name is a relative POSIX path
    inside the run's files: no leading ``/``, no ``..`` or ``.`` part, no empty part, no backslash."""
    if not isinstance(name, str) or not name:
        return "a file name is a non-empty string"
    if len(name) > MAX_FILE_NAME_CHARS:
        return f"file name is {len(name)} characters; at most {MAX_FILE_NAME_CHARS}"
    if "\x00" in name or "\\" in name:
        return f"file name {name[:80]!r} contains a NUL or a backslash; use '/' between folders"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        return f"file name {name[:80]!r} contains a lone surrogate (not UTF-8)"
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return (f"file name {name[:80]!r} is not a relative path inside the run: no leading '/', "
                "no empty, '.' or '..' part")
    return None
