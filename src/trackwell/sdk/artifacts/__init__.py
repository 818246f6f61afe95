"""Artifacts on the client: ``Artifact`` (entries, manifest, digest, download cache), the run's
``log_artifact``/``use_artifact``/``link_artifact``, and the staged copies ``trackwell sync`` delivers.

Loaded on first use (``init()`` only loads the run's methods, ``_run_hooks``): hashing, temp
files and thread pools are not every run's import cost.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trackwell.sdk.artifacts._artifact import Artifact, ArtifactEntry
    from trackwell.sdk.artifacts._pending import deliver as deliver_pending
    from trackwell.sdk.artifacts._pending import find as find_pending
    from trackwell.sdk.artifacts._transfer import ArtifactUploadError

_WHERE = {"Artifact": "_artifact", "ArtifactEntry": "_artifact", "ArtifactUploadError": "_transfer",
          "deliver_pending": "_pending.deliver", "find_pending": "_pending.find"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'trackwell.sdk.artifacts' has no attribute {name!r}")
    import importlib

    module, _, attr = _WHERE[name].partition(".")
    return getattr(importlib.import_module(f"trackwell.sdk.artifacts.{module}"), attr or name)


__all__ = ["Artifact", "ArtifactEntry", "ArtifactUploadError", "deliver_pending", "find_pending"]
