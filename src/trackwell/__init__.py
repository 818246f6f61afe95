"""trackwell: a self-hosted experiment tracker with a wandb-shaped SDK.

`import trackwell as wandb` works for common scripts. Importing this package is light: the
server, database and HTTP libraries load only where they are used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Api":
        from trackwell.api import Api

        return Api
    raise AttributeError(f"module 'trackwell' has no attribute {name!r}")
