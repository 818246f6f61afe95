"""``trackwell.Artifact``: a versioned set of files (W&B's shape). Built locally (``add_file``,
``add_dir``, ``add_reference``, ``new_file``), logged by a run (``run.log_artifact``), and read
back (``run.use_artifact``, ``Api().artifact``): ``download``, ``verify``, aliases, links, lineage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from trackwell.schema.artifacts import (
    check_aliases,
    check_name,
    check_type,
    manifest_digest,
)
from trackwell.sdk.artifacts import _transfer
from trackwell.sdk.artifacts._entries import (
    LocalEntry,
    dir_entries,
    entry_name,
    file_entry,
    reference_entries,
    sha256_file,
)

if TYPE_CHECKING:
    from trackwell.transport import Client


class ArtifactEntry:
    """One file of an artifact: ``path``, ``digest``, ``size``, ``ref``; ``download(root)``."""

    def __init__(self, artifact: Artifact, entry: LocalEntry) -> None:
        self._artifact, self._entry = artifact, entry
        self.path, self.digest, self.size, self.ref = entry.path, entry.digest, entry.size, entry.ref

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """The file, verified, under ``root`` (default: the artifact's download directory); its path."""
        dest = Path(root or self._artifact._default_root()) / self.path
        self._artifact._fetch(self._entry, dest)
        return str(dest)

    def __repr__(self) -> str:
        return f"ArtifactEntry({self.path!r}, digest={self.digest[:12]}..., size={self.size})"


class Artifact:
    """A versioned collection of files. Versions are ``v0, v1, ...`` per name; logging the same
    contents again is the same version (aliases move to it)."""

    def __init__(self, name: str, type: str, description: str | None = None,  # noqa: A002 - W&B's name
                 metadata: dict[str, Any] | None = None) -> None:
        self.name = check_name(name)
        self.type = check_type(type)
        self.description = description
        self.metadata = dict(metadata or {})
        self._entries: dict[str, LocalEntry] = {}
        self._staging: tempfile.TemporaryDirectory[str] | None = None  # new_file()'s files
        self._client: Client | None = None
        self._server: dict[str, Any] = {}  # the version as the server shows it, once logged
        self._aliases: list[str] = []
        self._done = threading.Event()
        self._done.set()  # nothing in flight
        self._error: BaseException | None = None
        self.entity: str | None = None
        self.project: str | None = None
        self._pending: Path | None = None  # the staged copy a run keeps until the server has it

    # -- building -------------------------------------------------------------------------------

    def _draft(self) -> None:
        if self._server or self._pending is not None:
            raise ValueError(f"artifact {self.name} is logged already: its files cannot change; make a new "
                             "Artifact for the next version")

    def _add(self, entries: list[LocalEntry]) -> None:
        for entry in entries:
            self._entries[entry.path] = entry

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None) -> ArtifactEntry:
        self._draft()
        if not Path(local_path).is_file():
            raise ValueError(f"add_file: {str(local_path)!r} is not a file")
        entry = file_entry(local_path, entry_name(name, Path(local_path).name))
        self._add([entry])
        return ArtifactEntry(self, entry)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None) -> None:
        self._draft()
        self._add(dir_entries(local_path, name))

    def add_reference(self, uri: str, name: str | None = None, checksum: bool = True) -> list[ArtifactEntry]:
        """Record ``uri`` (file://, s3://, http(s)://) without copying its bytes to the server."""
        self._draft()
        entries = reference_entries(uri, name, checksum)
        self._add(entries)
        return [ArtifactEntry(self, e) for e in entries]

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: str | None = None) -> Iterator[IO[Any]]:
        """Write a file straight into the artifact: ``with artifact.new_file("a.txt") as f: ...``."""
        self._draft()
        path = entry_name(name, name)
        if self._staging is None:
            self._staging = tempfile.TemporaryDirectory(prefix="trackwell-artifact-")
        local = Path(self._staging.name) / path
        local.parent.mkdir(parents=True, exist_ok=True)
        with open(local, mode, encoding=encoding) as f:
            yield f
        self._add([file_entry(local, path)])

    def remove(self, name: str) -> None:
        self._draft()
        if self._entries.pop(name, None) is None:
            raise KeyError(f"artifact {self.name} has no file {name!r}")

    # -- what it is -----------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, dict[str, Any]]:
        """``{path: {"digest", "size"[, "ref"]}}``."""
        return {p: {k: v for k, v in (("digest", e.digest), ("size", e.size), ("ref", e.ref)) if v is not None}
                for p, e in sorted(self._full().items())}

    @property
    def digest(self) -> str:
        """The manifest's digest: equal contents, equal digest (the server computes the same)."""
        return manifest_digest({p: e.wire() for p, e in self._entries.items()})

    @property
    def version(self) -> str | None:
        return self._server.get("version")

    @property
    def id(self) -> int | None:
        return self._server.get("id")

    @property
    def size(self) -> int:
        return sum(e.size for e in self._entries.values() if e.ref is None)

    @property
    def state(self) -> str:
        return "COMMITTED" if self._server else "PENDING"

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:{self.version or 'latest'}"

    @property
    def aliases(self) -> list[str]:
        return self._aliases

    @aliases.setter
    def aliases(self, value: list[str]) -> None:
        self._aliases = check_aliases(value)

    def _full(self) -> dict[str, LocalEntry]:
        """The entries; a version read from a listing fetches its manifest first."""
        if self._server and "manifest" not in self._server and self._client is not None:
            self._adopt(self._client, self._client.request("GET", self._path()))
        return self._entries

    def get_entry(self, name: str) -> ArtifactEntry:
        entry = self._full().get(name)
        if entry is None:
            raise KeyError(f"artifact {self.name} has no file {name!r}; it has {len(self._entries)} files")
        return ArtifactEntry(self, entry)

    get_path = get_entry  # W&B's older name

    def files(self) -> list[ArtifactEntry]:
        return [ArtifactEntry(self, e) for _, e in sorted(self._full().items())]

    def __repr__(self) -> str:
        return f"<Artifact {self.name}:{self.version or 'draft'} type={self.type} files={len(self._entries)}>"

    # -- logged: the server's side ----------------------------------------------------------------

    def _adopt(self, client: Client, found: dict[str, Any]) -> Artifact:
        """Take the server's view of the version (after logging it, or when read back)."""
        self._client, self._server = client, found
        self.entity, self.project, self.name, self.type = found["entity"], found["project"], found["name"], found["type"]
        self.description, self.metadata = found.get("description"), dict(found.get("metadata") or {})
        self._aliases = list(found.get("aliases") or [])
        if "manifest" in found:
            self._entries = {p: LocalEntry(p, e["digest"], e["size"], e.get("ref"), self._local_of(p))
                             for p, e in found["manifest"].items()}
        return self

    def _local_of(self, path: str) -> str | None:
        old = self._entries.get(path)
        return old.local if old is not None else None

    @classmethod
    def _from_server(cls, client: Client, found: dict[str, Any]) -> Artifact:
        return cls(found["name"], found["type"])._adopt(client, found)

    def wait(self, timeout: float | None = None) -> Artifact:
        """Until a run's upload of this artifact is done; raises what made it fail."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"artifact {self.name} is still uploading after {timeout} s")
        if self._error is not None:
            raise self._error
        return self

    def _logged(self) -> Client:
        self.wait()
        if self._client is None:
            where = (f" (staged in {self._pending}; `trackwell sync` uploads it)" if self._pending else "")
            raise ValueError(f"artifact {self.name} is not on a server yet{where}: log it with an online run first")
        return self._client

    def _path(self) -> str:
        return f"{_transfer.artifacts_path(str(self.entity), str(self.project))}/{self.name}/{self.version}"

    def _default_root(self) -> Path:
        return Path("artifacts") / f"{self.name}:{self.version}"

    def _fetch(self, entry: LocalEntry, dest: Path) -> None:
        if entry.ref is not None:
            _transfer.fetch_reference(entry, dest)
        else:
            _transfer.place(_transfer.fetch(self._logged(), self._path(), entry), dest)

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """Every file under ``root`` (default ``./artifacts/<name>:<version>``), each verified
        against its digest and kept in the download cache (one copy per digest); returns ``root``."""
        self._logged()
        target = Path(root or self._default_root())
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda e: self._fetch(e, target / e.path), self._full().values()))
        return str(target)

    def verify(self, root: str | os.PathLike[str] | None = None) -> None:
        """Check the files under ``root`` against the manifest: raises ``ValueError`` naming what differs."""
        target = Path(root or self._default_root())
        bad = []
        for entry in self._full().values():
            local = target / entry.path
            if not local.is_file():
                bad.append(f"{entry.path}: missing")
            elif entry.ref is None and sha256_file(local)[0] != entry.digest:
                bad.append(f"{entry.path}: contents differ")
        if bad:
            raise ValueError(f"artifact {self.name}:{self.version} under {target}: {'; '.join(bad[:20])}")

    def save(self) -> Artifact:
        """Store ``aliases`` as the version's aliases (``latest`` stays where the server put it)."""
        client = self._logged()
        aliases = list(self._aliases)
        if "latest" in self._server.get("aliases", []) and "latest" not in aliases:
            aliases.append("latest")
        if "latest" not in self._server.get("aliases", []) and "latest" in aliases:
            aliases.remove("latest")
        return self._adopt(client, {**client.request("PUT", self._path() + "/aliases", json={"aliases": aliases}),
                                    "manifest": self.manifest})

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version (a registry link: unlink it); its blobs are freed once nothing holds them."""
        self._logged().request("DELETE", self._path(), params={"delete_aliases": str(delete_aliases).lower()})

    def link(self, target_path: str, aliases: list[str] | None = None) -> Artifact:
        """Link this version into a registry collection ``[entity/]project/collection``."""
        client = self._logged()
        parts = target_path.split("/")
        entity, project, collection = ([str(self.entity)] + parts if len(parts) == 2 else parts)[-3:]
        found = client.request("POST", f"{_transfer.artifacts_path(entity, project)}/{collection}/links",
                               json={"source": f"{self.entity}/{self.project}/{self.name}:{self.version}",
                                     "aliases": check_aliases(aliases)})
        return Artifact._from_server(client, {**found, "manifest": self.manifest})

    def logged_by(self) -> Any:
        """The run (``trackwell.Api``'s ``Run``) that logged this version; None if it was deleted."""
        return self._lineage()["logged_by"]

    def used_by(self) -> list[Any]:
        """The runs that used this version."""
        return self._lineage()["used_by"]

    def _lineage(self) -> dict[str, Any]:
        from trackwell.api import Api

        client = self._logged()
        found = client.request("GET", self._path() + "/lineage")
        api = Api.over(client)
        logged = found["logged_by"]
        return {"logged_by": None if logged is None else api.run("/".join(logged.values())),
                "used_by": [api.run("/".join(r.values())) for r in found["used_by"]]}

    def _keep_staging(self, into: Path) -> None:
        """new_file()'s files moved next to a run's staged copy (a temp dir dies with the process)."""
        if self._staging is None:
            return
        for entry in self._entries.values():
            if entry.local is not None and entry.local.startswith(str(Path(self._staging.name).resolve())):
                dest = into / entry.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry.local, dest)
                entry.local = str(dest)
