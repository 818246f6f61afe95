"""The parameter file of a sweep run and the SDK's side of it.

An agent writes each run's parameters to ``<dir>/sweep-<id>/config-<run id>.yaml`` in W&B's
shape (``{"lr": {"value": 0.01}}``; JSON, which is YAML too) and points ``TRACKWELL_SWEEP_PARAM_PATH``
at it; ``trackwell.init()`` in that run reads it (``sweep_init_args``): the sweep's values win over
``init(config=...)``, the run id, project and entity are the agent's, and a requeued run resumes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SWEEP_ENV = "TRACKWELL_SWEEP_ID"
PARAM_ENV = "TRACKWELL_SWEEP_PARAM_PATH"


def write_param_file(root: Path, sweep_id: str, run_id: str, params: dict[str, Any]) -> Path:
    path = root / f"sweep-{sweep_id}" / f"config-{run_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: {"value": v} for k, v in params.items()}, indent=1))
    return path


def read_param_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The plain values of a parameter file (this agent's JSON or W&B's YAML)."""
    text = Path(path).read_text()
    try:
        raw = json.loads(text)
    except ValueError:
        import yaml

        raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise ValueError(f"sweep parameter file {path} holds no mapping of parameters")
    return {k: v["value"] if isinstance(v, dict) and set(v) == {"value"} else v for k, v in raw.items()}


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` wins, nested dicts merged key by key (a sweep's ``opt.lr`` keeps ``opt.momentum``)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def sweep_init_args(project: str | None, entity: str | None, run_id: str | None, resume: Any,
                    config: dict[str, Any]) -> tuple[str | None, str | None, str | None, Any, dict[str, Any]]:
    """``init()``'s arguments inside a sweep run: the agent's run id, project and entity, resume
    allowed (a requeued run continues), the sweep's parameters over ``config``."""
    env = os.environ
    path = env.get(PARAM_ENV)
    params = read_param_file(path) if path else {}
    return (env.get("TRACKWELL_PROJECT") or project, env.get("TRACKWELL_ENTITY") or entity,
            env.get("TRACKWELL_RUN_ID") or run_id, resume if resume is not None else "allow", merged(config, params))
