"""Errors and the warning category the SDK raises at users."""

from __future__ import annotations

from typing import Any

from trackwell.errors import ConfigError, UsageError  # defined with the others users catch

__all__ = ["ConfigError", "TrackwellWarning", "UsageError", "warn"]


class TrackwellWarning(UserWarning):
    """Something was skipped or degraded, but the training script keeps running."""


def warn(message: str) -> None:
    """Warn, attributed to the first caller outside trackwell (the user's line, not ours)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.dirname(__file__))
    frame: Any = sys._getframe(1)
    level = 2  # level 2 is our caller
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, TrackwellWarning, stacklevel=level)
