"""trackwell: a self-hosted experiment tracker with a wandb-shaped SDK.

`import trackwell as wandb` works for common scripts. Importing this package is light: the SDK
loads on first use of ``init``/``log``/..., and the server, database and HTTP libraries load
only where they are used.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs ~6 ms to import; only type checkers need it here
if TYPE_CHECKING:
    from typing import Any

    from trackwell.sdk import Config, Run, Summary

__version__ = "0.1.0"

# Set by init(), cleared by finish() (W&B's wandb.run / wandb.config / wandb.summary).
run: Run | None = None
config: Config | None = None
summary: Summary | None = None

_SDK_NAMES = frozenset({
    "init", "log", "finish", "alert", "define_metric", "mark_preempting", "save", "Run", "Settings",
    "Config", "Summary", "UsageError", "ConfigError", "TrackwellWarning", "Artifact",
    "termlog", "termwarn", "termerror", "watch", "unwatch", "log_code", "get_url",
})
_MEDIA_NAMES = frozenset({"Image", "Table", "Histogram", "Audio", "Video", "Html", "Object3D"})


def __getattr__(name: str) -> Any:
    if name == "Api":
        from trackwell.api import Api

        return Api
    if name in ("errors", "Error"):  # ``wandb.errors.CommError``, ``except wandb.Error``
        # import_module, not ``from trackwell import errors``: that asks this very function first
        from importlib import import_module

        errors = globals()["errors"] = import_module("trackwell.errors")
        return errors if name == "errors" else errors.Error
    if name in ("sweep", "agent"):
        from trackwell.sdk import agent as sweeps

        value = globals()[name] = getattr(sweeps, name)
        return value
    if name in _MEDIA_NAMES:
        from trackwell.sdk import media

        value = getattr(media, name)
        globals()[name] = value
        return value
    if name in _SDK_NAMES:
        from trackwell import sdk

        value = getattr(sdk, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'trackwell' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SDK_NAMES, *_MEDIA_NAMES, "Api", "errors", "Error", "sweep", "agent"})
