"""Artifacts a run logged, kept in its run directory until the server has them: written before
any upload (``<run dir>/artifacts/<id>.json``, new_file()'s files beside it in ``<id>.files/``,
part uploads in progress in ``<id>.uploads/<digest>``),
removed once the version is logged. An offline run, a server that was down, or a process killed
mid-upload leaves them there, and ``trackwell sync`` delivers them after the run's journal.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwell.sdk._journal_files import write_file
from trackwell.sdk.artifacts import _transfer
from trackwell.sdk.artifacts._entries import LocalEntry

if TYPE_CHECKING:
    from trackwell.sdk.artifacts._artifact import Artifact
    from trackwell.transport import Client

PENDING_DIR = "artifacts"


def stage(run_dir: Path, artifact: Artifact, aliases: list[str], run: tuple[str, str, str]) -> Path:
    """Write what logging ``artifact`` needs; returns the file that stands for it until delivered."""
    folder = run_dir / PENDING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.json"
    artifact._keep_staging(path.with_suffix(".files"))
    entity, project, run_id = run
    _write(path, {"entity": entity, "project": project, "run_id": run_id, "name": artifact.name,
                  "type": artifact.type, "description": artifact.description, "metadata": artifact.metadata,
                  "aliases": aliases, "links": [],
                  "entries": {p: e.as_json() for p, e in artifact._entries.items()}})
    return path


def _write(path: Path, staged: dict[str, Any]) -> None:
    write_file(path, json.dumps(staged).encode())


def add_link(path: Path, target: tuple[str, str, str], aliases: list[str]) -> None:
    """A link to make once the staged artifact is logged."""
    staged = json.loads(path.read_text())
    staged["links"].append({"target": list(target), "aliases": aliases})
    _write(path, staged)


def find(roots: Iterable[Path]) -> list[Path]:
    found: dict[Path, None] = {}
    for root in roots:
        for path in sorted(Path(root).rglob(f"{PENDING_DIR}/*.json")):
            found[path.resolve()] = None
    return list(found)


def deliver(client: Client, path: Path) -> dict[str, Any]:
    """Log the staged artifact (uploading the blobs the server lacks), make its links, then
    remove the staged copy; returns the version as the server shows it."""
    staged = json.loads(path.read_text())
    entries = [LocalEntry(p, e["digest"], e["size"], e.get("ref"), e.get("local"))
               for p, e in staged["entries"].items()]
    body = {"name": staged["name"], "type": staged["type"], "description": staged["description"],
            "metadata": staged["metadata"], "aliases": staged["aliases"], "run_id": staged["run_id"],
            "manifest": {e.path: {k: v for k, v in (("digest", e.digest), ("size", e.size), ("ref", e.ref))
                                  if v is not None} for e in entries}}
    uploads = path.with_suffix(".uploads")
    found: dict[str, Any] = _transfer.log_version(client, staged["entity"], staged["project"], body, entries,
                                                  uploads)
    source = f"{found['entity']}/{found['project']}/{found['name']}:{found['version']}"
    for link in staged["links"]:
        entity, project, collection = link["target"]
        client.request("POST", f"{_transfer.artifacts_path(entity, project)}/{collection}/links",
                       json={"source": source, "aliases": link["aliases"]})
    shutil.rmtree(path.with_suffix(".files"), ignore_errors=True)
    shutil.rmtree(uploads, ignore_errors=True)
    path.unlink(missing_ok=True)
    return found
