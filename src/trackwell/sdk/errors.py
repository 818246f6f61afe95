"""Errors and the warning category the SDK raises at users."""

from __future__ import annotations

from typing import Any

from trackwell.errors import ConfigError, UsageError  # defined with the others users catch

__all__ = ["ConfigError", "TrackwellWarning", "UsageError", "warn"]


class TrackwellWarning(UserWarning):
    """Something was skipped or degraded, but the training script keeps running."""


def warn(message: str) -> None:
    """Say it on the terminal (``terminal.termwarn``: a filtered ``warnings`` module cannot hide
    it), and raise it as a ``TrackwellWarning`` too, attributed to the first caller outside
    trackwell, for code that catches warnings; its default display is off (one line is enough)."""
    import os
    import sys
    import warnings

    from trackwell.sdk.terminal import PREFIX, termwarn

    termwarn(message.removeprefix(PREFIX))
    _quiet_by_default(warnings)

    package = os.path.dirname(os.path.dirname(__file__))
    frame: Any = sys._getframe(1)
    level = 2  # level 2 is our caller
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, TrackwellWarning, stacklevel=level)



def _quiet_by_default(warnings: Any) -> None:
    """Append (lowest precedence) an "ignore" for TrackwellWarning: the terminal line said it;
    the user's own filters, ``pytest.warns`` and ``catch_warnings`` still see every warning."""
    if not any(f[0] == "ignore" and f[2] is TrackwellWarning for f in warnings.filters):
        warnings.filterwarnings("ignore", category=TrackwellWarning, append=True)
