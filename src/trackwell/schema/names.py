"""What an entity, a project and a run id may be: one rule for ``init()`` and the server.

They are path segments of every URL (``/runs/<entity>/<project>/<run id>``) and a run id is a
directory name too, so a character a URL or a file system reads differently would make a run
that can be journaled but never delivered. W&B forbids the same characters in project names.

- entity and project: 1 to 128 characters, none of ``/ \\ # ? % :``, no control character, no
  space at either end, not ``.`` or ``..``;
- run id: 1 to 64 characters, letters, digits, ``_``, ``-`` and ``.`` (not first).
"""

from __future__ import annotations

import re

MAX_PATH_CHARS = 128
MAX_RUN_ID_CHARS = 64
FORBIDDEN = "/\\#?%:"
_RUN_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
RUN_ID_RULE = f"1 to {MAX_RUN_ID_CHARS} characters: letters, digits, '_', '-' and '.' (not first)"
PATH_RULE = (f"1 to {MAX_PATH_CHARS} characters, none of {' '.join(FORBIDDEN)}, no control characters, "
             "no spaces at either end")


def path_problem(what: str, value: object) -> str | None:
    """Why ``value`` cannot be an entity or project name (``what``), or None if it can."""
    if not isinstance(value, str):
        return f"{what} must be a string, not {type(value).__name__} ({value!r}); use {PATH_RULE}"
    shown = value if len(value) <= 60 else value[:60] + "..."
    bad = sorted({c for c in value if c in FORBIDDEN or ord(c) < 32 or ord(c) == 127})
    if bad:
        why = f"contains {', '.join(repr(c) for c in bad)}"
    elif not value or len(value) > MAX_PATH_CHARS:
        why = f"is {len(value)} characters long"
    elif value != value.strip():
        why = "starts or ends with a space"
    elif value in (".", ".."):
        why = "is a path of its own"
    else:
        return None
    return f"{what} {shown!r} {why}; use {PATH_RULE}"


def run_id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a run id, or None if it can."""
    if isinstance(value, str) and _RUN_ID.fullmatch(value):
        return None
    text = str(value)
    shown = text if len(text) <= 60 else text[:60] + "..."
    bad = sorted({c for c in text if not re.fullmatch(r"[A-Za-z0-9_.-]", c)})
    if not isinstance(value, str):
        why = f"must be a string, not {type(value).__name__}"
    elif bad:
        why = f"contains {', '.join(repr(c) for c in bad)}"
    elif text.startswith("."):
        why = "starts with '.'"
    else:
        why = f"is {len(text)} characters long"
    return f"run id {shown!r} {why}; use {RUN_ID_RULE}"


def run_path_problem(entity: object, project: object, run_id: object) -> str | None:
    """The first problem of a run's path, or None."""
    return path_problem("entity", entity) or path_problem("project", project) or run_id_problem(run_id)
