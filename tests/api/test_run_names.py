"""Routes that create a run (``PUT``, a fork) hold its path to the SDK's naming rules (``init``
refuses the same names): a 422 naming the rule, never a run that can be created but not logged
to. A run that exists keeps its path."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

BAD = [  # (project, run id): a project with '#', a run id with a space, one of 100 characters
    ("proj#1", "ok"),
    ("p", "a b"),
    ("p", "r" * 100),
]


@pytest.mark.parametrize("project,run_id", BAD)
def test_creating_a_run_with_a_bad_path_is_a_422(live_server, project: str, run_id: str) -> None:
    entity = live_server.entity
    path = f"{quote(entity, safe='')}/{quote(project, safe='')}/{quote(run_id, safe='')}"
    base = f"{live_server.url}/api/v1/runs"
    r = httpx.put(f"{base}/{path}", json={"notes": "x"}, headers=live_server.headers, timeout=10)
    assert r.status_code == 422 and "invalid run path" in r.json()["detail"], r.text
    assert "use" in r.json()["detail"]  # the rule it breaks, spelled out
    r = httpx.post(f"{base}/{path}/fork", json={"source": "source", "step": 0}, headers=live_server.headers,
                   timeout=10)
    assert r.status_code == 422 and "invalid run path" in r.json()["detail"], r.text
    assert httpx.get(f"{base}/{path}", headers=live_server.headers, timeout=10).status_code == 404
