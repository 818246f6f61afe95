"""Settings, resolved in one place. For each field the first of: the ``init()`` argument, the
``Settings`` object, ``TRACKWELL_*`` then ``WANDB_*`` environment variables (``_wandb_names.ENV``),
the directory's settings file (``trackwell offline`` writes it, as ``wandb offline`` does), the default.

The entity's default is the login's (``trackwell login`` stores it with the key for each server),
then ``"default"``; the key itself, when neither given nor in ``TRACKWELL_API_KEY``, is found by
the transport in the same credentials file, so Settings (and whatever records them) never hold it.
``WANDB_API_KEY`` is used only for a server with no stored login (it is usually a wandb.ai key).
W&B's settings names are accepted (``Settings(start_method="thread")``): the ones with a meaning
here are used, the rest said once and ignored, unknown names refused.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from dataclasses import dataclass, fields
from typing import Any

from trackwell.sdk._wandb_names import (
    DISABLED_ENV,
    ENV,
    SETTING_ALIASES,
    SETTINGS_IGNORED,
    WANDB_CLOUD_HOSTS,
)
from trackwell.sdk.errors import UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"  # same as transport's; kept here so settings stay import-light
MODES = ("online", "offline", "disabled", "shared")  # shared: online, one of several labelled writers
_MODE_ALIASES = {"run": "online", "dryrun": "offline"}  # W&B spellings
# W&B's names: "wrap" tees sys.stdout/sys.stderr, "redirect" the file descriptors 1 and 2 (C
# extensions and subprocesses too), "auto" is "redirect" where fds 1/2 are the process's real ones
CONSOLE_MODES = ("auto", "off", "wrap", "redirect")
RESUME_MODES = ("must", "allow", "never", "auto")  # as trackwell.schema's; kept here: settings stay import-light
DEFAULT_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")

_SYSTEM_BOOLS = ("x_disable_stats", "x_stats_per_core", "x_disable_meta", "save_code")
_BOOLS = ("strict", "quiet", "primary", "silent", "allow_val_change", *_SYSTEM_BOOLS)
_FLOATS = ("finish_timeout", "flush_interval", "init_timeout", "heartbeat_interval", "fsync_interval",
           "signal_grace", "stats_sampling_interval")

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
    "resume": None,
    "resume_from": None,
    "fork_from": None,
    "heartbeat_interval": 30.0,
    "signals": DEFAULT_SIGNALS,
    "preempt_signals": (),
    "fsync_interval": 1.0,
    "signal_grace": 20.0,
    "label": None,  # shared mode: host:pid, resolved at init
    "primary": None,  # shared mode: True for the writer that owns the run's state (first one if unset)
    "silent": False,
    "run_name": None,
    "run_group": None,
    "run_job_type": None,
    "run_notes": None,
    "run_tags": None,
    "config_paths": None,
    "allow_val_change": False,
    "reinit": "default",
    # system metrics, run metadata, code (sdk/system)
    "x_disable_stats": False,
    "x_stats_per_core": False,
    "x_disable_meta": False,
    "save_code": False,
    "stats_sampling_interval": 15.0,
}


@dataclass(init=False)
class Settings:
    """Run settings. Fields left as None are filled from TRACKWELL_* then WANDB_* env vars, the
    directory's settings file, then defaults. Takes W&B's settings names too (see the module)."""

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
    resume: str | bool | None = None  # "must" | "allow" | "never" | "auto" (True) | None (False)
    resume_from: str | None = None  # "<run id>?_step=N": rewind that run to step N and continue it
    fork_from: str | None = None  # "<run id>?_step=N": a new run branching from that run at step N
    heartbeat_interval: float | None = None  # seconds of upload silence before a heartbeat is sent
    signals: Any = None  # signals that flush and finish the run (names or numbers); () for none
    preempt_signals: Any = None  # of those, the ones that mean preemption (e.g. ("SIGUSR1",) on SLURM)
    fsync_interval: float | None = None  # seconds between fdatasyncs of the journal (power-loss window)
    signal_grace: float | None = None  # seconds a terminating signal may spend finishing (K8s gives 30)
    label: str | None = None  # shared mode: this writer's label (W&B's x_label), e.g. "rank-1"
    primary: bool | None = None  # shared mode: this writer's Exit ends the run (W&B's x_primary)
    silent: bool | None = None  # no SDK output but errors (W&B's silent; quiet keeps warnings)
    # The run's fields as W&B's settings name them (init's name=, group=, ... set these).
    run_name: str | None = None
    run_group: str | None = None
    run_job_type: str | None = None
    run_notes: str | None = None
    run_tags: Any = None
    config_paths: Any = None  # YAML files loaded into the config (W&B's config_paths)
    allow_val_change: bool | None = None  # config keys may change value without saying so
    reinit: str | bool | None = None  # see start.py: "default" | "return_previous" | "finish_previous" | "create_new"
    # -- system metrics, run metadata, code (sdk/system) --
    x_disable_stats: bool | None = None  # no system metrics sampler
    stats_sampling_interval: float | None = None  # seconds between system samples (W&B's 15)
    x_stats_per_core: bool | None = None  # also each core's CPU %
    x_disable_meta: bool | None = None  # no run metadata (host, OS, git, hardware) sent at start
    save_code: bool | None = None  # copy the main script into the run's files (code/)

    def __init__(self, **values: Any) -> None:
        ours, ignored = _split_names(values)
        for f in fields(Settings):
            setattr(self, f.name, ours.get(f.name))
        self._ignored = ignored  # W&B names given that mean nothing here (init says them once)

    def resolve(self, **explicit: Any) -> Settings:
        """A fully filled copy: explicit (non-None) args win over this object, env, the
        directory's settings file, defaults."""
        out: dict[str, Any] = {}
        defaulted: set[str] = set()
        for f in fields(self):
            value = explicit.get(f.name)
            if value is None:
                value = getattr(self, f.name)
            if value is None:
                value = _from_env(f.name)
            if value is None:
                defaulted.add(f.name)
            out[f.name] = value
        file_values = settings_file(out["dir"])
        for name in defaulted:
            value = file_values.get(name)
            out[name] = _DEFAULTS[name] if value is None else _parse(name, value)
        if "api_key" in defaulted:
            out["api_key"] = wandb_api_key(str(out["base_url"]))
        if "entity" in defaulted:
            out["entity"] = login_entity(str(out["base_url"]), out["api_key"]) or _DEFAULTS["entity"]
        resolved = Settings(**out)
        resolved._ignored = dict(self._ignored)
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
        if not float(self.fsync_interval or 0) > 0:
            raise UsageError(f"fsync_interval={self.fsync_interval!r} must be > 0 seconds")
        if not 0 < float(self.signal_grace or 0) <= 600:
            raise UsageError(f"signal_grace={self.signal_grace!r} must be > 0 and <= 600 seconds")
        if not float(self.heartbeat_interval or 0) > 0:
            raise UsageError(f"heartbeat_interval={self.heartbeat_interval!r} must be > 0 seconds")
        if not float(self.stats_sampling_interval or 0) >= 0.1:
            raise UsageError(f"stats_sampling_interval={self.stats_sampling_interval!r} must be >= 0.1 seconds")
        self.base_url = str(self.base_url).rstrip("/")
        self.reinit = reinit_mode(self.reinit)
        for name in _BOOLS:
            if name != "primary":
                setattr(self, name, bool(getattr(self, name)))
        self.resume = resume_mode(self.resume)
        given = [f"{k}={getattr(self, k)!r}" for k in ("resume", "resume_from", "fork_from") if getattr(self, k)]
        if len(given) > 1:
            raise UsageError(f"{' and '.join(given)}: resume, resume_from and fork_from are mutually exclusive; "
                             "resume continues a run, resume_from rewinds one, fork_from branches a new one")
        self.signals = signal_names(self.signals, "signals")
        self.preempt_signals = signal_names(self.preempt_signals, "preempt_signals")
        missing = [n for n in self.preempt_signals if n not in self.signals]
        if missing:
            self.signals = (*self.signals, *missing)  # a preemption signal is always handled

    def replace(self, **changes: Any) -> Settings:
        replaced = dataclasses.replace(self, **changes)
        replaced._ignored = dict(self._ignored)
        return replaced


def login_entity(base_url: str, api_key: str | None) -> str | None:
    """The default entity of the login stored for ``base_url`` (the user's own name), when that
    login's key is the one in use: another key's user would be refused writing there."""
    from trackwell import _credentials  # stdlib only; read here, offline runs included (no network)

    stored = _credentials.load(base_url)
    if stored is None or (api_key and api_key != stored.api_key):
        return None
    return stored.entity


def resume_mode(value: Any) -> str | None:
    """True/"true" mean "auto" (W&B's spelling); False/None/"" mean no resume."""
    if value is None or value is False:
        return None
    if value is True:
        return "auto"
    text = str(value).strip().lower()
    if text in ("", "false", "0", "no", "off"):
        return None
    if text in ("true", "1", "yes", "on"):
        return "auto"
    if text not in RESUME_MODES:
        raise UsageError(f"resume={value!r} is not one of {', '.join(RESUME_MODES)} (or True/False)")
    return text


REINIT_MODES = ("default", "return_previous", "finish_previous", "create_new")


def reinit_mode(value: Any) -> str:
    """W&B 0.31's reinit: one of REINIT_MODES; True is "finish_previous", False "return_previous"."""
    if value is None:
        return "default"
    if value is True or value is False:
        return "finish_previous" if value else "return_previous"
    if isinstance(value, str) and value in REINIT_MODES:
        return value
    raise UsageError(f"reinit={value!r} is not one of {', '.join(map(repr, REINIT_MODES))} (or True/False)")


def signal_names(value: Any, what: str) -> tuple[str, ...]:
    """("SIGTERM", 10, "usr1") -> ("SIGTERM", "SIGUSR1", "SIGUSR1"): canonical names, validated."""
    if isinstance(value, (str, int)):
        value = [value]
    names: list[str] = []
    for item in value or ():
        try:
            sig = signal.Signals(item) if isinstance(item, int) else signal.Signals[_sig_name(str(item))]
        except (KeyError, ValueError):
            known = ", ".join(sorted(s.name for s in signal.Signals if not s.name.startswith("CTRL_")))
            raise UsageError(f"{what}: unknown signal {item!r}; use names such as {known}") from None
        if sig.name not in names:
            names.append(sig.name)
    return tuple(names)


def _sig_name(text: str) -> str:
    text = text.strip().upper()
    return text if text.startswith("SIG") else "SIG" + text


def _parse(name: str, raw: str) -> Any:
    if name in _BOOLS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("signals", "preempt_signals"):
        return tuple(part for part in raw.replace(" ", ",").split(",") if part) or ()
    if name in ("run_tags", "config_paths"):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if name in _FLOATS:
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"{name}={raw!r} is not a number of seconds") from None
    return raw


def _split_names(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trackwell fields, W&B names accepted without effect); an unknown name is a UsageError."""
    names = {f.name for f in fields(Settings)}
    ours: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in values.items():
        name = key if key in names else SETTING_ALIASES.get(key)
        if name is not None:
            ours[name] = value
        elif key in SETTINGS_IGNORED:
            ignored[key] = value
        else:
            unknown.append(key)
    if unknown:
        raise UsageError(f"unknown setting(s) {', '.join(sorted(unknown))}: not a trackwell or W&B setting "
                         f"(trackwell's: {', '.join(sorted(names))}; W&B's are accepted too)")
    return ours, ignored


def _from_env(name: str) -> Any:
    for var in ENV.get(name, ()):
        raw = os.environ.get(var)
        if raw is not None and (raw or name.endswith("signals")):  # "" = no signals
            if name == "base_url" and var.startswith("WANDB_") and any(h in raw for h in WANDB_CLOUD_HOSTS):
                continue  # a wandb.ai URL left in the shell is W&B's, not this server's
            return _parse(name, raw)
    if name == "mode":
        for var in DISABLED_ENV:
            if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
                return "disabled"
    return None


def wandb_api_key(base_url: str) -> str | None:
    """``WANDB_API_KEY``, only for a server with no stored login: a wandb.ai key left in the
    shell must not shadow ``trackwell login``'s key (the transport reads that one)."""
    key = os.environ.get("WANDB_API_KEY")
    if not key:
        return None
    from trackwell import _credentials

    return key if _credentials.load(base_url) is None else None


SETTINGS_FILE = ("trackwell", "settings")  # <dir>/trackwell/settings, as W&B's ./wandb/settings


def settings_file_path(directory: str | None) -> str:
    return os.path.join(directory or os.getcwd(), *SETTINGS_FILE)


def settings_file(directory: str | None) -> dict[str, str]:
    """``[default]`` of ``<dir or cwd>/trackwell/settings`` (written by `trackwell offline` etc.)."""
    path = settings_file_path(directory)
    if not os.path.isfile(path):
        return {}
    import configparser

    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error) as exc:
        raise UsageError(f"cannot read the settings file {path}: {exc}; fix or delete it") from None
    return dict(parser["default"]) if parser.has_section("default") else {}


def as_settings(value: Settings | dict[str, Any] | None) -> Settings:
    if value is None:
        return Settings()
    if isinstance(value, Settings):
        return value
    if isinstance(value, dict):
        return Settings(**value)
    raise UsageError(f"settings must be trackwell.Settings or a dict, not {type(value).__name__}")
