"""A run's artifact methods: ``log_artifact``, ``use_artifact``, ``link_artifact``. ``Run``
takes them from ``RunArtifacts``; the run's own module only calls ``_settle_artifacts`` at finish.

``log_artifact`` never blocks training: the artifact is staged in the run directory (so a crash
or an outage loses nothing; ``trackwell sync`` delivers it) and an online run uploads it on a
thread of its own; ``artifact.wait()`` waits for that, and ``finish()`` does within its timeout.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwell.sdk.errors import UsageError, warn

if TYPE_CHECKING:
    from trackwell.sdk.artifacts._artifact import Artifact
    from trackwell.sdk.settings import Settings
    from trackwell.transport import Client


class RunArtifacts:
    """Mixed into ``Run``: what it needs is its identity, settings and run directory."""

    settings: Settings
    entity: str
    project: str
    id: str
    _finished: bool

    def _artifact_state(self) -> tuple[list[threading.Thread], dict[str, Any]]:
        state = self.__dict__.setdefault("_artifacts_state", ([], {}))
        return state  # type: ignore[no-any-return]

    def _artifact_client(self) -> Client:
        from trackwell.transport import Client

        cache = self._artifact_state()[1]
        if "client" not in cache:
            cache["client"] = Client(self.settings.base_url, self.settings.api_key)
        return cache["client"]  # type: ignore[no-any-return]

    @property
    def _offline(self) -> bool:
        return self.settings.mode == "offline"

    def log_artifact(self, artifact_or_path: Artifact | str | os.PathLike[str], name: str | None = None,
                     type: str | None = None, aliases: list[str] | None = None) -> Artifact:  # noqa: A002
        """Log a new version of ``artifact`` (or of a file or directory, named ``name``)."""
        from trackwell.schema.artifacts import check_aliases
        from trackwell.sdk.artifacts import _pending
        if self._finished:
            raise UsageError(f"run {self.id} is finished; log artifacts before finish()")
        artifact = _as_artifact(artifact_or_path, name, type)
        aliases = check_aliases(aliases)
        run_dir = Path(self._rundir.root)  # type: ignore[attr-defined]
        artifact._pending = _pending.stage(run_dir, artifact, aliases, (self.entity, self.project, self.id))
        artifact.entity, artifact.project = self.entity, self.project
        if self._offline:
            return artifact
        artifact._done.clear()
        thread = threading.Thread(target=self._upload, args=(artifact,), name=f"trackwell-artifact-{artifact.name}",
                                  daemon=True)
        self._artifact_state()[0].append(thread)
        thread.start()
        return artifact

    def _upload(self, artifact: Artifact) -> None:
        from trackwell.sdk.artifacts import _pending

        client = self._artifact_client()
        try:
            assert artifact._pending is not None
            artifact._adopt(client, {**_pending.deliver(client, artifact._pending), "manifest": artifact.manifest})
            artifact._pending = None
        except BaseException as exc:  # noqa: BLE001 - kept for wait(); the staged copy stays for sync
            artifact._error = exc
            warn(f"trackwell: artifact {artifact.name} of run {self.id} was not uploaded ({exc}); it is kept in "
                 f"{artifact._pending} and `trackwell sync` will upload it")
        finally:
            artifact._done.set()

    def use_artifact(self, artifact_or_name: Artifact | str, type: str | None = None,  # noqa: A002
                     aliases: list[str] | None = None) -> Artifact:
        """The version ``[entity/][project/]name[:version|alias]`` (default ``latest``), recorded
        as an input of this run (lineage); ``download()`` it to read its files."""
        from trackwell.schema.artifacts import check_aliases
        from trackwell.sdk.artifacts._artifact import Artifact

        if self._offline:
            raise UsageError("use_artifact needs the server (it resolves the version and records this run as its "
                             "user); use mode='online', or read it with trackwell.Api().artifact(...)")
        spec = artifact_or_name
        if isinstance(spec, Artifact):
            spec.wait()
            spec = spec.qualified_name
        client = self._artifact_client()
        path = client.run_path(self.entity, self.project, self.id) + "/artifacts/used"
        found = client.request("POST", path, json={"artifact": spec})
        if type is not None and found["type"] != type:
            raise UsageError(f"artifact {spec} has type {found['type']!r}, not {type!r}")
        artifact = Artifact._from_server(client, found)
        if aliases:
            artifact.aliases = sorted({*artifact.aliases, *check_aliases(aliases)})
            artifact.save()
        return artifact

    def link_artifact(self, artifact: Artifact, target_path: str, aliases: list[str] | None = None) -> None:
        """Link a version this run logged into a registry collection ``[entity/]project/collection``."""
        from trackwell.schema.artifacts import check_aliases
        from trackwell.sdk.artifacts import _pending

        parts = target_path.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"link target {target_path!r} must be 'project/collection' or 'entity/project/collection'")
        aliases = check_aliases(aliases)
        if not self._offline:
            try:
                artifact.wait()
            except Exception:  # noqa: BLE001 - its upload failed: it stays staged, and so does the link
                if artifact._pending is None:
                    raise
        if artifact._pending is not None:  # not on the server yet: linked when it is delivered
            target = tuple([self.entity] + parts if len(parts) == 2 else parts)
            _pending.add_link(artifact._pending, target, aliases)  # type: ignore[arg-type]
            return
        artifact.link(target_path if len(parts) == 3 else f"{self.entity}/{target_path}", aliases)

    def _settle_artifacts(self, deadline: float) -> None:
        """At finish: wait (until ``deadline``, monotonic) for the uploads log_artifact started."""
        threads, cache = self._artifact_state()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = sum(t.is_alive() for t in threads)
        if left:
            warn(f"trackwell: {left} artifact upload(s) of run {self.id} did not finish in time; they are kept in "
                 "the run directory and `trackwell sync` will upload them")
        if "client" in cache and not left:
            cache.pop("client").close()


def _as_artifact(value: Artifact | str | os.PathLike[str], name: str | None, kind: str | None) -> Artifact:
    from trackwell.sdk.artifacts._artifact import Artifact

    if isinstance(value, Artifact):
        return value
    path = Path(value)
    artifact = Artifact(name or path.name.replace(" ", "_") or "artifact", kind or "unspecified")
    if path.is_dir():
        artifact.add_dir(path)
    else:
        artifact.add_file(path)
    return artifact

