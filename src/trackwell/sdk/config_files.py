"""The config ``init()`` starts a run with, as W&B builds it: ``config-defaults.yaml`` in the
working directory if there is one, then ``config_paths`` files, then ``config=`` (a dict, an
argparse Namespace, or a YAML file's path) filtered by ``config_include_keys`` /
``config_exclude_keys``; later sources win."""

from __future__ import annotations

import os
from typing import Any

from trackwell.sdk.config import as_dict
from trackwell.sdk.errors import UsageError

DEFAULTS_FILE = "config-defaults.yaml"  # W&B loads it from the working directory


def initial_config(config: Any, paths: Any, include: Any, exclude: Any) -> dict[str, Any]:
    """``config_paths`` files first, then ``config`` (which wins), filtered by include/exclude."""
    if include and exclude:
        raise UsageError("config_include_keys and config_exclude_keys cannot both be given; pass one")
    merged: dict[str, Any] = load_yaml(DEFAULTS_FILE) if os.path.isfile(DEFAULTS_FILE) else {}
    for path in [paths] if isinstance(paths, str | os.PathLike) else (paths or ()):
        merged.update(load_yaml(path))
    given = config_dict(config)
    if include:
        given = {k: v for k, v in given.items() if k in set(include)}
    elif exclude:
        given = {k: v for k, v in given.items() if k not in set(exclude)}
    return {**merged, **given}


def config_dict(config: Any) -> dict[str, Any]:
    """``init(config=...)`` as a dict: a YAML file's path is read."""
    return load_yaml(config) if isinstance(config, str | os.PathLike) else as_dict(config)


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML config file as W&B reads it: ``wandb_version`` and ``_wandb`` dropped, and a key
    written as ``{value: ..., desc: ...}`` (W&B's config.yaml) taken as its value."""
    try:
        import yaml
    except ImportError:
        raise UsageError(f"config file {os.fspath(path)!r} needs PyYAML: pip install 'trackwell[yaml]'") from None
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise UsageError(f"cannot read the config file {os.fspath(path)!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"the config file {os.fspath(path)!r} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"the config file {os.fspath(path)!r} holds a {type(data).__name__}; "
                         "it must be a mapping of keys to values")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("wandb_version", "_wandb"):
            continue
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        out[str(key)] = value
    return out
