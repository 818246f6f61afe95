"""The authorization matrix's rules for the artifact routes (merged into ``matrix_rules.RULES``).

Each project of the world gets one artifact (``base``, logged by the admin with the project's
base run) the first time a cell needs it; a call that should succeed and changes something
(delete, link) gets a fresh version of its own.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from matrix_rules import (
    PROJECT_TARGETS,
    RUN_READ_TARGETS,
    RUN_WRITE_TARGETS,
    RUNS,
    Call,
    Rule,
    list_runs,
    project_of,
    read_run,
    run_of,
    write_run,
)
from matrix_world import World

A = "/api/v1/artifacts/{entity}/{project}"
V = A + "/{name}/{version}"
BASE = "base"


def log_version(w: World, t: str, name: str = BASE) -> str:
    """A version of ``name`` in target ``t``'s project, logged by the admin with its base run."""
    content = f"{t} {name} {uuid.uuid4().hex}".encode()
    digest = hashlib.sha256(content).hexdigest()
    response = w.call("PUT", f"/projects/{project_of(t)}/blobs/{digest}",
                      {**w.admin_headers, "Content-Type": "application/octet-stream"}, content=content)
    assert response.status_code == 200, response.text[:300]
    made = w.as_admin("POST", f"/artifacts/{project_of(t)}/versions", json={
        "name": name, "type": "dataset", "run_id": w.base_runs[t],
        "manifest": {"data.txt": {"digest": digest, "size": len(content)}}})
    return str(made["version"])


def base(w: World, t: str) -> str:
    """``entity/project/base`` of target ``t`` (logged once), or an artifact that does not exist."""
    if t not in RUNS:
        return f"{project_of('priv' if t == 'missing-run' else t)}/no-such-artifact"
    made: dict[str, str] = w.__dict__.setdefault("artifacts", {})
    if t not in made:
        log_version(w, t)
        w.as_admin("POST", f"/runs/{run_of(w, t)}/artifacts/used", json={"artifact": f"{BASE}:v0"})
        made[t] = f"{project_of(t)}/{BASE}"
    return made[t]


def on_version(method: str, suffix: str = "", **params: str) -> Callable[[World, object, str, bool], Call]:
    return lambda w, c, t, ok: Call(method, f"/artifacts/{base(w, t)}/v0{suffix}", params=params or None)


def fresh_version(w: World, t: str, ok: bool) -> str:
    """A version to change: a new one of its own when the call should succeed (else the base's)."""
    if ok and t in RUNS:
        name = f"fresh-{uuid.uuid4().hex[:8]}"
        return f"{project_of(t)}/{name}/{log_version(w, t, name)}"
    return f"{base(w, t)}/v0"


def log_call(w: World, c: object, t: str, ok: bool) -> Call:
    return Call("POST", f"/artifacts/{project_of(t)}/versions",
                json={"name": f"new-{uuid.uuid4().hex[:8]}", "type": "dataset", "manifest": {}})


def link_call(w: World, c: object, t: str, ok: bool) -> Call:
    source = fresh_version(w, t, ok).rsplit("/", 1)
    return Call("POST", f"/artifacts/{project_of(t)}/registry-{uuid.uuid4().hex[:6]}/links",
                json={"source": f"{source[0]}:{source[1]}"})


def use_call(w: World, c: object, t: str, ok: bool) -> Call:
    return Call("POST", f"/runs/{run_of(w, t)}/artifacts/used", json={"artifact": f"{base(w, t)}:v0"})


ARTIFACT_RULES: dict[tuple[str, str], Rule] = {
    ("GET", A): Rule(PROJECT_TARGETS, list_runs, lambda w, c, t, ok: Call("GET", f"/artifacts/{project_of(t)}")),
    ("GET", A + "/{name}"): Rule(RUN_READ_TARGETS, read_run, lambda w, c, t, ok: Call("GET", f"/artifacts/{base(w, t)}")),
    ("GET", V): Rule(RUN_READ_TARGETS, read_run, on_version("GET")),
    ("GET", V + "/file"): Rule(RUN_READ_TARGETS, read_run, on_version("GET", "/file", path="data.txt")),
    ("GET", V + "/lineage"): Rule(RUN_READ_TARGETS, read_run, on_version("GET", "/lineage")),
    ("GET", "/api/v1/runs/{entity}/{project}/{run_id}/artifacts"): Rule(
        RUN_READ_TARGETS, read_run, lambda w, c, t, ok: Call("GET", f"/runs/{run_of(w, t)}/artifacts",
                                                             params={"direction": "used"})),
    ("POST", A + "/versions"): Rule(RUN_WRITE_TARGETS, write_run(creates=True), log_call),
    ("POST", A + "/{name}/links"): Rule(RUN_WRITE_TARGETS, write_run(creates=False), link_call),
    ("PUT", V + "/aliases"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False),
        lambda w, c, t, ok: Call("PUT", f"/artifacts/{fresh_version(w, t, ok)}/aliases",
                                 json={"aliases": ["latest", "matrix"]})),
    ("DELETE", A + "/{name}"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False),
        lambda w, c, t, ok: Call("DELETE", "/artifacts/" + fresh_version(w, t, ok).rsplit("/", 1)[0])),
    ("DELETE", V): Rule(RUN_WRITE_TARGETS, write_run(creates=False),
                        lambda w, c, t, ok: Call("DELETE", f"/artifacts/{fresh_version(w, t, ok)}")),
    ("POST", "/api/v1/runs/{entity}/{project}/{run_id}/artifacts/used"): Rule(
        RUN_WRITE_TARGETS, write_run(creates=False), use_call),
}
