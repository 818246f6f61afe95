"""The server's layers, read from the source: routers speak HTTP and reach the stores only
through services; services speak no HTTP and see no database library (the stores' interfaces
only)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trackwell.server

SERVER = Path(trackwell.server.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _offending(folder: str, banned: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in sorted((SERVER / folder).glob("*.py")):
        bad = sorted(n for n in _imports(path) if any(n == b or n.startswith(b + ".") for b in banned))
        if bad:
            found[path.name] = bad
    return found


@pytest.mark.parametrize("folder, banned", [
    ("routers", ("trackwell.store", "sqlalchemy", "duckdb")),
    ("services", ("fastapi", "starlette", "sqlalchemy", "duckdb", "trackwell.server.routers",
                  "trackwell.server._errors", "trackwell.server._encoding")),
])
def test_layers_keep_to_their_own(folder: str, banned: tuple[str, ...]) -> None:
    assert _offending(folder, banned) == {}
