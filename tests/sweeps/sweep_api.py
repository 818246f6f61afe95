"""The sweep REST endpoints spoken directly, for the sweep tests (a plain module: the test
directories each have a conftest, and only one of them can be imported as ``conftest``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from servers import LiveServer, http


@dataclass
class SweepApi:
    """A sweep's REST endpoints, for tests that speak the agent protocol themselves."""

    url: str
    entity: str
    project: str
    sweep_id: str = ""

    @classmethod
    def create(cls, live: LiveServer, config: dict[str, Any], prior_runs: list[str] | None = None,
               project: str | None = None) -> SweepApi:
        api = cls(live.url, live.entity, project or f"p-{uuid.uuid4().hex[:8]}")
        r = http.post(api.base, json={"config": config, "prior_runs": prior_runs or []}, timeout=30)
        assert r.status_code == 200, r.text
        api.sweep_id = r.json()["id"]
        return api

    @property
    def base(self) -> str:
        return f"{self.url}/api/v1/sweeps/{self.entity}/{self.project}"

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.sweep_id}"

    def get(self) -> dict[str, Any]:
        r = http.get(f"{self.base}/{self.sweep_id}", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def runs(self) -> list[dict[str, Any]]:
        r = http.get(f"{self.base}/{self.sweep_id}/runs", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["runs"]  # type: ignore[no-any-return]

    def register(self) -> Any:
        return http.post(f"{self.base}/{self.sweep_id}/agents", json={"host": "test", "pid": 1}, timeout=30)

    def heartbeat(self, agent_id: str, runs: dict[str, bool] | None = None, done: bool = False) -> Any:
        return http.post(f"{self.base}/{self.sweep_id}/agents/{agent_id}/heartbeat",
                         json={"runs": runs or {}, "done": done}, timeout=60)

    def control(self, action: str) -> Any:
        return http.post(f"{self.base}/{self.sweep_id}/control", json={"action": action}, timeout=30)


def grid_60() -> dict[str, Any]:
    """5 x 4 x 3 = 60 combinations."""
    return {"method": "grid", "metric": {"name": "loss"},
            "parameters": {"a": {"values": [1, 2, 3, 4, 5]}, "b": {"min": 0, "max": 3},
                           "c": {"values": ["x", "y", "z"]}}}
