"""The sweep REST calls an agent, ``trackwell.sweep`` and the CLI make, with their errors as
``SweepError`` naming the sweep and the server's reason."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from trackwell import _credentials
from trackwell.errors import CommError

DEFAULT_PROJECT = "uncategorized"


class SweepError(CommError):
    """The server refused a sweep request (no such sweep, an invalid config, the agent limit)."""


@dataclass(frozen=True)
class SweepPath:
    entity: str
    project: str
    sweep_id: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.sweep_id}"


class SweepClient:
    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: float = 30.0) -> None:
        from trackwell.transport import Client

        self.client = Client(base_url=base_url, api_key=api_key, timeout=timeout)
        stored = _credentials.load(self.client.base_url)
        self.default_entity = stored.entity if stored and stored.api_key == self.client.api_key else None

    def close(self) -> None:
        self.client.close()

    def entity(self, entity: str | None) -> str:
        return entity or os.environ.get("TRACKWELL_ENTITY") or self.default_entity or "default"

    def path(self, sweep: str, project: str | None = None, entity: str | None = None) -> SweepPath:
        """``id``, ``project/id`` or ``entity/project/id`` (W&B's forms), the rest from the arguments,
        ``TRACKWELL_PROJECT``/``TRACKWELL_ENTITY``, then the login's entity."""
        parts = [p for p in sweep.strip("/").split("/") if p]
        if len(parts) == 4 and parts[2] == "sweeps":
            parts = [parts[0], parts[1], parts[3]]
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"bad sweep id {sweep!r}: expected 'id', 'project/id' or 'entity/project/id'")
        if len(parts) == 1:
            parts = [project or os.environ.get("TRACKWELL_PROJECT") or DEFAULT_PROJECT, *parts]
        if len(parts) == 2:
            parts = [self.entity(entity), *parts]
        return SweepPath(*parts)

    def call(self, method: str, path: str, body: Any = None, retry: bool = True) -> Any:
        from trackwell.transport import ServerError

        try:
            return self.client.request(method, "/api/v1" + path, json=body, retry=retry)
        except ServerError as exc:
            raise SweepError(f"{method} {path} on {self.client.base_url}: {exc.detail} (HTTP {exc.status})",
                             exc.status) from None

    @staticmethod
    def _url(p: SweepPath) -> str:
        return f"/sweeps/{quote(p.entity, safe='')}/{quote(p.project, safe='')}/{quote(p.sweep_id, safe='')}"

    def create(self, entity: str, project: str, config: dict[str, Any], prior_runs: list[str]) -> dict[str, Any]:
        return self.call("POST", f"/sweeps/{quote(entity, safe='')}/{quote(project, safe='')}",  # type: ignore[no-any-return]
                         {"config": config, "prior_runs": prior_runs})

    def get(self, p: SweepPath) -> dict[str, Any]:
        return self.call("GET", self._url(p))  # type: ignore[no-any-return]

    def runs(self, p: SweepPath) -> list[dict[str, Any]]:
        return self.call("GET", self._url(p) + "/runs")["runs"]  # type: ignore[no-any-return]

    def control(self, p: SweepPath, action: str) -> dict[str, Any]:
        return self.call("POST", self._url(p) + "/control", {"action": action})  # type: ignore[no-any-return]

    def register(self, p: SweepPath, host: str, pid: int) -> dict[str, Any]:
        return self.call("POST", self._url(p) + "/agents", {"host": host, "pid": pid},  # type: ignore[no-any-return]
                         retry=False)

    def heartbeat(self, p: SweepPath, agent_id: str, runs: dict[str, bool]) -> dict[str, Any]:
        return self.call("POST", f"{self._url(p)}/agents/{agent_id}/heartbeat", {"runs": runs})  # type: ignore[no-any-return]


def load_config(sweep: Any) -> dict[str, Any]:
    """A config dict as given, or read from a YAML (or JSON) file path."""
    if isinstance(sweep, dict):
        return sweep
    if isinstance(sweep, (str, os.PathLike)):
        import yaml

        with open(sweep) as f:
            loaded = yaml.safe_load(f)
        if not isinstance(loaded, dict):
            raise ValueError(f"{sweep} holds no sweep config mapping (expected keys such as method and parameters)")
        return loaded
    raise TypeError(f"a sweep config is a dict or a path to a YAML file, not {type(sweep).__name__}")
