"""`trackwell.Api`: read runs, config, summaries and history back, shaped like `wandb.Api`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from trackwell import _credentials
from trackwell.api._automations import AutomationsApi
from trackwell.errors import CommError
from trackwell.transport import Client, ServerError

DEFAULT_ENTITY = "default"


class RunNotFoundError(CommError, LookupError):
    """No run (for ``Api.runs``: no project) at that path that this key may read. The server
    answers the same 404 whether it does not exist or is not visible to the caller, and so does
    this error."""


def _split_path(path: str, parts: int, default_entity: str | None = None) -> list[str]:
    """Accept "entity/project[/id]" (or "entity/project/runs/id"); the entity may be omitted
    (then ``TRACKWELL_ENTITY``, else ``default_entity``, else "default")."""
    pieces = [p for p in path.strip("/").split("/") if p]
    if len(pieces) == parts + 1 and pieces[-2] == "runs":
        pieces = pieces[:-2] + pieces[-1:]
    if len(pieces) == parts - 1:
        pieces = [os.environ.get("TRACKWELL_ENTITY") or default_entity or DEFAULT_ENTITY, *pieces]
    if len(pieces) != parts:
        shape = "entity/project/run_id" if parts == 3 else "entity/project"
        raise ValueError(f"bad path {path!r}: expected {shape!r}")
    return pieces


def _frame(rows: list[dict[str, Any]], pandas: bool) -> Any:
    """A pandas DataFrame when pandas is installed and wanted, else the list of dicts."""
    if pandas:
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame.from_records(rows)
    return rows


class Api(AutomationsApi):
    """Query a trackwell server: ``Api().runs("entity/project")``, ``Api().run(path)``.

    The key: ``api_key``, else ``TRACKWELL_API_KEY``, else the login stored for ``base_url``
    (``trackwell login``); a refused or missing one raises ``trackwell.errors.AuthenticationError``.
    A path without its entity uses ``TRACKWELL_ENTITY``, else the login's entity, else "default".
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.client = Client(base_url=base_url, api_key=api_key, timeout=timeout)
        stored = _credentials.load(self.client.base_url)
        # the login's entity only goes with the login's key (another user's would not be theirs)
        self.default_entity = stored.entity if stored and stored.api_key == self.client.api_key else None

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def runs(self, path: str = "", filters: dict[str, Any] | None = None,
             order: str = "-created_at", per_page: int = 50) -> Runs:
        entity, project = _split_path(path or os.environ.get("TRACKWELL_PROJECT", "uncategorized"), 2,
                                      self.default_entity)
        return Runs(self, entity, project, filters or {}, order, per_page)

    def run(self, path: str) -> Run:
        entity, project, run_id = _split_path(path, 3, self.default_entity)
        return Run(self, self._get_run(entity, project, run_id))

    def _get_run(self, entity: str, project: str, run_id: str) -> dict[str, Any]:
        try:
            return self.client.get(Client.run_path(entity, project, run_id))  # type: ignore[no-any-return]
        except ServerError as exc:
            if exc.status == 404:
                raise RunNotFoundError(f"no run {entity}/{project}/{run_id} on {self.base_url} that this "
                                       "API key may read", 404) from exc
            raise


class Runs:
    """The runs of a project matching filters, fetched page by page as you iterate."""

    def __init__(self, api: Api, entity: str, project: str, filters: dict[str, Any], order: str, per_page: int) -> None:
        self.api, self.entity, self.project = api, entity, project
        self.filters, self.order, self.per_page = filters, order, per_page
        self._cache: list[Run] | None = None

    def __iter__(self) -> Iterator[Run]:
        if self._cache is not None:
            yield from self._cache
            return
        fetched: list[Run] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"order": self.order, "limit": self.per_page}
            if self.filters:
                params["filters"] = json.dumps(self.filters)
            if cursor:
                params["cursor"] = cursor
            try:
                page = self.api.client.get(f"/api/v1/runs/{quote(self.entity)}/{quote(self.project)}", params)
            except ServerError as exc:
                if exc.status == 404:
                    raise RunNotFoundError(f"no project {self.entity}/{self.project} on {self.api.base_url} "
                                           "that this API key may read", 404) from exc
                raise
            for data in page["runs"]:
                run = Run(self.api, data)
                fetched.append(run)
                yield run
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self._cache = fetched

    def _all(self) -> list[Run]:
        if self._cache is None:
            for _ in self:
                pass
        assert self._cache is not None
        return self._cache

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index: int) -> Run:
        return self._all()[index]


class Run:
    """One run as the server holds it. ``refresh()`` re-reads it."""

    def __init__(self, api: Api, data: dict[str, Any]) -> None:
        self._api = api
        self._load(data)

    def _load(self, data: dict[str, Any]) -> None:
        self._data = data
        self.entity: str = data["entity"]
        self.project: str = data["project"]
        self.id: str = data["id"]
        self.name: str | None = data.get("name")
        self.group: str | None = data.get("group")
        self.job_type: str | None = data.get("job_type")
        self.tags: list[str] = list(data.get("tags") or [])
        self.notes: str | None = data.get("notes")
        # running, finished, failed, crashed, preempting, preempted or killed (docs/lifecycle.md)
        self.state: str = data.get("state", "running")
        self.exit_code: int | None = data.get("exit_code")
        self.heartbeat_at: float | None = data.get("heartbeat_at")
        self.forked_from: dict[str, Any] | None = data.get("forked_from")  # {"id", "step"} of a fork
        self.config: dict[str, Any] = dict(data.get("config") or {})
        self.summary: dict[str, Any] = dict(data.get("summary") or {})
        self.created_at: float | None = data.get("created_at")
        self.runtime: float | None = data.get("runtime")

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        return f"{self._api.base_url}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def _base(self) -> str:
        return Client.run_path(quote(self.entity), quote(self.project), quote(self.id))

    def refresh(self) -> Run:
        self._load(self._api._get_run(self.entity, self.project, self.id))
        return self

    def stop(self) -> Run:
        """Stop the run (state ``killed``): its process learns it on its next upload or heartbeat,
        finishes cleanly and exits."""
        self._load(self._api.client.request("POST", self._base + "/stop"))
        return self

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Per-metric last/min/max/count/mean, maintained by the server at ingest."""
        return self._api.client.get(self._base + "/metrics")["metrics"]  # type: ignore[no-any-return]

    def history(self, keys: list[str] | None = None, samples: int = 500, pandas: bool = True) -> Any:
        """Up to ``samples`` rows spread evenly over the run (first and last step included)."""
        params: dict[str, Any] = {"samples": samples}
        if keys:
            params["keys"] = json.dumps(list(keys))  # the JSON form: keys may contain commas
        rows = self._api.client.get(self._base + "/history", params)["rows"]
        return _frame(rows, pandas)

    def scan_history(self, keys: list[str] | None = None, page_size: int = 1000,
                     min_step: int | None = None) -> Iterator[dict[str, Any]]:
        """Every row, in step order, fetched ``page_size`` rows at a time."""
        next_step: int | None = min_step
        while True:
            params: dict[str, Any] = {"page_size": page_size}
            if keys:
                params["keys"] = json.dumps(list(keys))  # the JSON form: keys may contain commas
            if next_step is not None:
                params["min_step"] = next_step
            page = self._api.client.get(self._base + "/history/scan", params)
            yield from page["rows"]
            next_step = page.get("next_step")
            if next_step is None:
                return

    def buckets(self, key: str, buckets: int = 1000, min_step: int | None = None,
                max_step: int | None = None) -> dict[str, Any]:
        """One metric downsampled server-side: min/max/last per bucket, exact first and last."""
        params: dict[str, Any] = {"key": key, "buckets": buckets}
        if min_step is not None:
            params["min_step"] = min_step
        if max_step is not None:
            params["max_step"] = max_step
        return self._api.client.get(self._base + "/history/buckets", params)  # type: ignore[no-any-return]

    def console(self) -> list[dict[str, Any]]:
        """The run's captured stdout/stderr lines, in order."""
        lines: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            page = self._api.client.get(self._base + "/console", {"offset": offset, "limit": 5000})
            lines.extend(page["lines"])
            offset = page.get("next_offset")
        return lines

    def system_metrics(self, keys: list[str] | None = None, samples: int = 1000, pandas: bool = True) -> Any:
        """The run's ``system/...`` samples (W&B's system-metrics stream): one row per sample with
        ``_runtime`` and ``_timestamp`` (their time axis: they have no step), up to ``samples``
        spread evenly over the run."""
        params: dict[str, Any] = {"samples": samples}
        if keys:
            params["keys"] = json.dumps(list(keys))
        got = self._api.client.get(self._base + "/system", params)
        series = got["series"]
        rows = [{"_runtime": runtime, "_timestamp": ts, **{k: v[i] for k, v in series.items() if v[i] is not None}}
                for i, (runtime, ts) in enumerate(zip(got["runtime"], got["ts"], strict=True))]
        return _frame(rows, pandas)

    @property
    def metadata(self) -> dict[str, Any]:
        """What the run ran on: host, OS, Python, program and args, git, CPU/GPU, memory."""
        return self._api.client.get(self._base + "/metadata")["metadata"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<Run {self.entity}/{self.project}/{self.id} ({self.state})>"
