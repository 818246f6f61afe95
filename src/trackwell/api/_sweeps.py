"""``Api().sweep("entity/project/id")``: a sweep as the server holds it, shaped like W&B's."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from trackwell.api._run import RunNotFoundError
from trackwell.transport import ServerError

if TYPE_CHECKING:
    from trackwell.api._api import Api
    from trackwell.api._run import Run


class Sweep:
    def __init__(self, api: Api, entity: str, project: str, sweep_id: str) -> None:
        self._api, self.entity, self.project, self.id = api, entity, project, sweep_id
        self.refresh()

    @property
    def _base(self) -> str:
        return f"/api/v1/sweeps/{quote(self.entity, safe='')}/{quote(self.project, safe='')}/{quote(self.id, safe='')}"

    def refresh(self) -> Sweep:
        try:
            data = self._api.client.get(self._base)
        except ServerError as exc:
            if exc.status == 404:
                raise RunNotFoundError(f"no sweep {self.entity}/{self.project}/{self.id} on {self._api.base_url} "
                                       "that this API key may read", 404) from exc
            raise
        self._data: dict[str, Any] = data
        self.config: dict[str, Any] = data["config"]
        self.state: str = data["state"]  # running, paused, finished, canceled or crashed
        self.name: str | None = data.get("name")
        self.expected_run_count: int | None = data.get("expected_run_count")
        self._runs: list[Run] | None = None
        return self

    @property
    def runs(self) -> list[Run]:
        """The runs the sweep handed out that started (one never started has no run to show)."""
        if self._runs is None:
            self._runs = []
            for listed in self._api.client.get(self._base + "/runs")["runs"]:
                if listed["status"] == "prior":
                    continue
                try:
                    self._runs.append(self._api.run(f"{self.entity}/{self.project}/{listed['id']}"))
                except RunNotFoundError:
                    continue
        return self._runs

    def best_run(self, order: str | None = None) -> Run | None:
        """The run with the best summary value: of the sweep's metric by its goal, or of ``order``
        ("loss" or "+loss": lowest; "-loss": highest)."""
        metric = self.config.get("metric") or {}
        if order is None:
            if not metric.get("name"):
                return None
            key, highest = metric["name"], metric.get("goal") == "maximize"
        else:
            key, highest = order.lstrip("+-"), order.startswith("-")
        scored = [(r.summary[key], r) for r in self.runs
                  if isinstance(r.summary.get(key), (int, float)) and not isinstance(r.summary.get(key), bool)
                  and math.isfinite(r.summary[key])]
        if not scored:
            return None
        return (max if highest else min)(scored, key=lambda pair: pair[0])[1]

    def __repr__(self) -> str:
        return f"<Sweep {self.entity}/{self.project}/{self.id} ({self.state})>"
