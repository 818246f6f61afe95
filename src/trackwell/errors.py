"""The errors trackwell raises at users, in one importable place (W&B's ``wandb.errors``, with
its names and hierarchy: ``Error`` > ``CommError`` > ``AuthenticationError``; ``Error`` >
``UsageError`` > ``UnsupportedError``), so ``except wandb.errors.CommError`` works unchanged.

Light on purpose: no httpx here. The transport raises subclasses of these that also carry the
HTTP answer (``trackwell.transport.ServerError``'s ``status``, ``detail``, ``body``), so
``except trackwell.errors.AuthenticationError`` catches a refused key whatever raised it.
"""

from __future__ import annotations

__all__ = ["AuthenticationError", "CommError", "ConfigError", "Error", "PermissionDenied", "UnsupportedError",
           "UsageError", "WandbCoreNotAvailableError"]


class Error(Exception):
    """Base of every error trackwell raises at users."""


class CommError(Error):
    """The server refused a request, or could not be reached (``status`` is None then)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(CommError):
    """No API key, or one the server refused (invalid, revoked, expired, its user deactivated).

    The message says which server and where the key came from, and how to fix it (`trackwell
    login`, or ``TRACKWELL_API_KEY``); it never contains the key."""


class PermissionDenied(CommError):
    """HTTP 403: the key is valid but may not do this (a read-only key writing, a viewer, a
    non-admin creating users)."""


class UsageError(Error):
    """The SDK was called in a way it cannot honour (no active run, a finished run, a bad argument)."""


class UnsupportedError(UsageError):
    """W&B's name for a feature this version does not have."""


class WandbCoreNotAvailableError(Error):
    """W&B's name; never raised here (there is no separate core process), kept for ``except``."""


class ConfigError(UsageError, ValueError):
    """A config key was changed to a different value without ``allow_val_change=True``."""
