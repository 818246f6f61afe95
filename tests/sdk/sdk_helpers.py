"""Shared helpers for the SDK tests: offline runs in temp dirs and reading their journals back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import servers

from trackwell.schema import AnyRecord, History
from trackwell.sdk.journal import JournalReader


def journal_records(path: Path) -> list[AnyRecord]:
    return JournalReader(path).records()


def history(path: Path) -> list[History]:
    return [r for r in journal_records(path) if isinstance(r, History)]


def user_data(row: History) -> dict[str, Any]:
    """A history row without the SDK's own _runtime/_timestamp."""
    return {k: v for k, v in row.data.items() if k not in ("_runtime", "_timestamp")}


def scan_rows(base_url: str, entity: str, project: str, run_id: str) -> list[dict[str, Any]]:
    """Every history row the server holds for a run, via the REST scan endpoint."""
    return servers.scan_rows(base_url, f"{entity}/{project}/{run_id}")


def get_run(base_url: str, entity: str, project: str, run_id: str) -> dict[str, Any]:
    return servers.get_run(base_url, f"{entity}/{project}/{run_id}")
