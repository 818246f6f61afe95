"""Settings, resolved in one place: explicit arguments, then TRACKWELL_* env vars, then defaults."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any

from trackwell.sdk.errors import UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"  # same as transport's; kept here so settings stay import-light
MODES = ("online", "offline", "disabled")
_MODE_ALIASES = {"run": "online", "dryrun": "offline"}  # W&B spellings
CONSOLE_MODES = ("auto", "off", "wrap", "redirect")  # every value but "off" tees at the Python level

# field -> env var; values are parsed by the field's type below
_ENV = {
    "project": "TRACKWELL_PROJECT",
    "entity": "TRACKWELL_ENTITY",
    "mode": "TRACKWELL_MODE",
    "base_url": "TRACKWELL_BASE_URL",
    "api_key": "TRACKWELL_API_KEY",
    "dir": "TRACKWELL_DIR",
    "run_id": "TRACKWELL_RUN_ID",
    "console": "TRACKWELL_CONSOLE",
    "strict": "TRACKWELL_STRICT",
    "quiet": "TRACKWELL_QUIET",
    "finish_timeout": "TRACKWELL_FINISH_TIMEOUT",
    "flush_interval": "TRACKWELL_FLUSH_INTERVAL",
    "init_timeout": "TRACKWELL_INIT_TIMEOUT",
}

_DEFAULTS: dict[str, Any] = {
    "project": "uncategorized",
    "entity": "default",
    "mode": "online",
    "base_url": DEFAULT_BASE_URL,
    "api_key": None,
    "dir": None,  # cwd, resolved at init
    "run_id": None,  # generated
    "console": "auto",
    "strict": False,
    "quiet": False,
    "finish_timeout": 60.0,
    "flush_interval": 0.5,
    "init_timeout": 5.0,
}


@dataclass
class Settings:
    """Run settings. Fields left as None are filled from TRACKWELL_* env vars, then defaults."""

    project: str | None = None
    entity: str | None = None
    mode: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    dir: str | None = None
    run_id: str | None = None
    console: str | None = None
    strict: bool | None = None  # raise on unsupported values instead of warning and skipping
    quiet: bool | None = None  # no init/finish messages
    finish_timeout: float | None = None  # seconds finish() waits for the server to ack
    flush_interval: float | None = None  # seconds between writer drains (0 < x <= 1)
    init_timeout: float | None = None  # seconds for init's synchronous upsert of the run

    def resolve(self, **explicit: Any) -> Settings:
        """A fully filled copy: explicit (non-None) args win over this object, env, defaults."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = explicit.get(f.name)
            if value is None:
                value = getattr(self, f.name)
            if value is None and os.environ.get(_ENV[f.name]):
                value = _parse(f.name, os.environ[_ENV[f.name]])
            out[f.name] = _DEFAULTS[f.name] if value is None else value
        resolved = Settings(**out)
        resolved._validate()
        return resolved

    def _validate(self) -> None:
        mode = _MODE_ALIASES.get(str(self.mode), str(self.mode))
        if mode not in MODES:
            raise UsageError(f"mode={self.mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        if self.console not in CONSOLE_MODES:
            raise UsageError(f"console={self.console!r} is not one of {', '.join(CONSOLE_MODES)}")
        if not 0 < float(self.flush_interval or 0) <= 1:  # the kill -9 promise: lose at most ~1 s
            raise UsageError(f"flush_interval={self.flush_interval!r} must be > 0 and <= 1 second")
        if float(self.finish_timeout or 0) < 0:
            raise UsageError(f"finish_timeout={self.finish_timeout!r} must be >= 0 seconds")
        self.base_url = str(self.base_url).rstrip("/")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse(name: str, raw: str) -> Any:
    if name in ("strict", "quiet"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("finish_timeout", "flush_interval", "init_timeout"):
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"{_ENV[name]}={raw!r} is not a number of seconds") from None
    return raw


def as_settings(value: Settings | dict[str, Any] | None) -> Settings:
    if value is None:
        return Settings()
    if isinstance(value, Settings):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {f.name for f in fields(Settings)}
        if unknown:
            raise UsageError(f"unknown settings: {', '.join(sorted(unknown))}")
        return Settings(**value)
    raise UsageError(f"settings must be trackwell.Settings or a dict, not {type(value).__name__}")
