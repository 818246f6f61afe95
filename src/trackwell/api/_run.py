"""A run as the server holds it (``Api().run(path)``), and a project's runs (``Api().runs(path)``).

Shaped like W&B's public ``Run``: ``id`` is the run's id, ``name`` (alias ``display_name``) its
display name; change ``name``, ``tags``, ``notes``, ``group``, ``job_type``, ``config[...]`` and
``summary[...]`` on the object, then ``update()`` sends what changed. ``delete()`` removes it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from trackwell.api._artifacts import RunArtifactsApi
from trackwell.api._files import File, list_files, one_file, open_media
from trackwell.api._frames import frame
from trackwell.errors import CommError
from trackwell.transport import Client, ServerError

if TYPE_CHECKING:
    from trackwell.api._api import Api

_FIELDS = ("name", "group", "job_type", "tags", "notes")


class RunNotFoundError(CommError, LookupError):
    """No run (for ``Api.runs``: no project) at that path that this key may read. The server
    answers the same 404 whether it does not exist or is not visible to the caller, and so does
    this error."""


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


class Run(RunArtifactsApi):
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
        # what the server has, to send only what changed (``update``)
        self._sent = copy.deepcopy({**{f: getattr(self, f) for f in _FIELDS},
                                    "config": self.config, "summary": self.summary})

    @property
    def display_name(self) -> str | None:
        """W&B's name for ``name``: the run's display name (``id`` is its id)."""
        return self.name

    @display_name.setter
    def display_name(self, value: str | None) -> None:
        self.name = value

    @property
    def summary_metrics(self) -> dict[str, Any]:
        """W&B's plain-dict view of the summary: the same dict as ``summary``."""
        return self.summary

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

    def update(self) -> Run:
        """Send the changes made on this object since it was read: ``name``, ``group``,
        ``job_type``, ``tags``, ``notes``, and the ``config`` and ``summary`` keys set, changed or
        deleted. Summary keys set here stay as set when the run logs more history. The server's
        answer (4xx naming a bad field: ``CommError``) is the run's new state."""
        sent = self._sent
        body: dict[str, Any] = {f: getattr(self, f) for f in _FIELDS if getattr(self, f) != sent[f]}
        for part in ("config", "summary"):
            now, before = getattr(self, part), sent[part]
            changed = {k: v for k, v in now.items() if k not in before or not _same(before[k], v)}
            if changed:
                body[part] = changed
            removed = [k for k in before if k not in now]
            if removed:
                body[f"{part}_remove"] = removed
        if body:
            self._load(self._api.client.request("PATCH", self._base, json=body))
        return self

    save = update  # W&B's older name

    def delete(self, delete_artifacts: bool = False) -> None:
        """Delete the run for good: its history, summary, config and console. Its id cannot be
        used again (a process still logging to it is refused). Artifacts it logged are kept
        (their versions no longer name a producer run); ``delete_artifacts`` is accepted for
        W&B's signature and does not delete them."""
        self._api.client.request("DELETE", self._base)

    def stop(self) -> Run:
        """Stop the run (state ``killed``): its process learns it on its next upload or heartbeat,
        finishes cleanly and exits."""
        self._load(self._api.client.request("POST", self._base + "/stop"))
        return self

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Per-metric last/min/max/count/mean, maintained by the server at ingest."""
        return self._api.client.get(self._base + "/metrics")["metrics"]  # type: ignore[no-any-return]

    def history(self, keys: list[str] | None = None, samples: int = 500, pandas: bool = True,
                x_axis: str = "_step") -> Any:
        """Up to ``samples`` rows spread evenly over the run (first and last included), as a pandas
        DataFrame (``pandas=False``: a list of dicts). ``x_axis``: another metric to sample
        along (e.g. a ``define_metric`` step metric): only rows that have it, spread over its
        points."""
        params: dict[str, Any] = {"samples": samples}
        if keys:
            params["keys"] = json.dumps(list(keys))  # the JSON form: keys may contain commas
        if x_axis != "_step":
            params["x_axis"] = x_axis
        rows = self._api.client.get(self._base + "/history", params)["rows"]
        return frame(rows, pandas)

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
                max_step: int | None = None, x_axis: str | None = None) -> dict[str, Any]:
        """One metric downsampled server-side: min/max/last per bucket, exact first and last.
        ``x_axis``: also each point's value of that metric (as of its step) as ``x``."""
        params: dict[str, Any] = {"key": key, "buckets": buckets}
        if min_step is not None:
            params["min_step"] = min_step
        if max_step is not None:
            params["max_step"] = max_step
        if x_axis is not None:
            params["x_axis"] = x_axis
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

    def files(self) -> list[File]:
        """The run's files (``run.save``, media, run.dir): each can ``download(root)``."""
        return list_files(self._api.client, self._base)

    def file(self, name: str) -> File:
        return one_file(self._api.client, self._base, name, "/".join(self.path))

    def media(self, value: Any) -> Any:
        """Open a media value from this run's history (``run.history()`` rows hold references):
        an Image, a Table, a Histogram, or a list of Images."""
        return open_media(self._api.client, self._base, value)

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
        return frame(rows, pandas)

    @property
    def metadata(self) -> dict[str, Any]:
        """What the run ran on: host, OS, Python, program and args, git, CPU/GPU, memory."""
        return self._api.client.get(self._base + "/metadata")["metadata"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<Run {self.entity}/{self.project}/{self.id} ({self.state})>"


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN included (NaN != NaN would make a NaN summary value look changed, and sending
    it would pin it)."""
    if a == b:
        return True
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):
        return False
