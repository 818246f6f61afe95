"""Settings, resolved in one place: explicit arguments, then TRACKWELL_* env vars, then defaults.

The entity's default is the login's (``trackwell login`` stores it with the key for each server),
then ``"default"``; the key itself, when neither given nor in ``TRACKWELL_API_KEY``, is found by
the transport in the same credentials file, so Settings (and whatever records them) never hold it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from dataclasses import dataclass, fields
from typing import Any

from trackwell.sdk.errors import UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"  # same as transport's; kept here so settings stay import-light
MODES = ("online", "offline", "disabled", "shared")  # shared: online, one of several labelled writers
_MODE_ALIASES = {"run": "online", "dryrun": "offline"}  # W&B spellings
# W&B's names: "wrap" tees sys.stdout/sys.stderr, "redirect" the file descriptors 1 and 2 (C
# extensions and subprocesses too), "auto" is "redirect" where fds 1/2 are the process's real ones
CONSOLE_MODES = ("auto", "off", "wrap", "redirect")
RESUME_MODES = ("must", "allow", "never", "auto")  # as trackwell.schema's; kept here: settings stay import-light
DEFAULT_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")

# field -> env var; values are parsed by the field's type below. resume_from/fork_from have none:
# an environment variable left set would rewind or fork every run started from that shell.
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
    "resume": "TRACKWELL_RESUME",
    "heartbeat_interval": "TRACKWELL_HEARTBEAT_INTERVAL",
    "signals": "TRACKWELL_SIGNALS",
    "preempt_signals": "TRACKWELL_PREEMPT_SIGNALS",
    "fsync_interval": "TRACKWELL_FSYNC_INTERVAL",
    "signal_grace": "TRACKWELL_SIGNAL_GRACE",
    "label": "TRACKWELL_LABEL",
}
_FLOATS: tuple[str, ...] = ("finish_timeout", "flush_interval", "init_timeout", "heartbeat_interval", "fsync_interval",
           "signal_grace")

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
}

# System metrics, run metadata and the saved script (sdk/system), under W&B's names.
_SYSTEM_BOOLS = ("x_disable_stats", "x_stats_per_core", "x_disable_meta", "save_code")
_ENV.update({"x_disable_stats": "TRACKWELL_DISABLE_STATS", "x_stats_per_core": "TRACKWELL_STATS_PER_CORE",
             "x_disable_meta": "TRACKWELL_DISABLE_META", "save_code": "TRACKWELL_SAVE_CODE",
             "stats_sampling_interval": "TRACKWELL_STATS_SAMPLING_INTERVAL"})
_DEFAULTS.update({"x_disable_stats": False, "x_stats_per_core": False, "x_disable_meta": False,
                  "save_code": False, "stats_sampling_interval": 15.0})
_FLOATS = (*_FLOATS, "stats_sampling_interval")


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
    # -- system metrics, run metadata, code (sdk/system) --
    x_disable_stats: bool | None = None  # no system metrics sampler
    stats_sampling_interval: float | None = None  # seconds between system samples (W&B's 15)
    x_stats_per_core: bool | None = None  # also each core's CPU %
    x_disable_meta: bool | None = None  # no run metadata (host, OS, git, hardware) sent at start
    save_code: bool | None = None  # copy the main script into the run's files (code/)

    def resolve(self, **explicit: Any) -> Settings:
        """A fully filled copy: explicit (non-None) args win over this object, env, defaults."""
        out: dict[str, Any] = {}
        defaulted: set[str] = set()
        for f in fields(self):
            value = explicit.get(f.name)
            if value is None:
                value = getattr(self, f.name)
            env = _ENV.get(f.name)
            raw = os.environ.get(env) if env else None
            if value is None and raw is not None and (raw or f.name.endswith("signals")):  # "" = no signals
                value = _parse(f.name, raw)
            if value is None:
                defaulted.add(f.name)
            out[f.name] = _DEFAULTS[f.name] if value is None else value
        if "entity" in defaulted:
            out["entity"] = login_entity(str(out["base_url"]), out["api_key"]) or _DEFAULTS["entity"]
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
        if not float(self.fsync_interval or 0) > 0:
            raise UsageError(f"fsync_interval={self.fsync_interval!r} must be > 0 seconds")
        if not 0 < float(self.signal_grace or 0) <= 600:
            raise UsageError(f"signal_grace={self.signal_grace!r} must be > 0 and <= 600 seconds")
        if not float(self.heartbeat_interval or 0) > 0:
            raise UsageError(f"heartbeat_interval={self.heartbeat_interval!r} must be > 0 seconds")
        if not float(self.stats_sampling_interval or 0) >= 0.1:
            raise UsageError(f"stats_sampling_interval={self.stats_sampling_interval!r} must be >= 0.1 seconds")
        self.base_url = str(self.base_url).rstrip("/")
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
        return dataclasses.replace(self, **changes)


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
    if name in ("strict", "quiet", "primary", *_SYSTEM_BOOLS):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("signals", "preempt_signals"):
        return tuple(part for part in raw.replace(" ", ",").split(",") if part) or ()
    if name in _FLOATS:
        try:
            return float(raw)
        except ValueError:
            raise UsageError(f"{_ENV[name]}={raw!r} is not a number of seconds") from None
    return raw


_SETTING_ALIASES = {"x_label": "label", "x_primary": "primary",  # W&B's names for shared-mode settings
                    "x_stats_sampling_interval": "stats_sampling_interval"}


def as_settings(value: Settings | dict[str, Any] | None) -> Settings:
    if value is None:
        return Settings()
    if isinstance(value, Settings):
        return value
    if isinstance(value, dict):
        value = {_SETTING_ALIASES.get(k, k): v for k, v in value.items()}
        unknown = set(value) - {f.name for f in fields(Settings)}
        if unknown:
            raise UsageError(f"unknown settings: {', '.join(sorted(unknown))}")
        return Settings(**value)
    raise UsageError(f"settings must be trackwell.Settings or a dict, not {type(value).__name__}")
