"""The errors trackwell raises at users, in one importable place (W&B's ``wandb.errors``).

Light on purpose: no httpx here. The transport raises subclasses of these that also carry the
HTTP answer (``trackwell.transport.ServerError``'s ``status``, ``detail``, ``body``), so
``except trackwell.errors.AuthenticationError`` catches a refused key whatever raised it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs an import; only type checkers need it
if TYPE_CHECKING:
    from trackwell.sdk.errors import UsageError

__all__ = ["AuthenticationError", "CommError", "Error", "PermissionDenied", "UsageError"]


class Error(Exception):
    """Base of trackwell's errors about talking to a server."""


class AuthenticationError(Error):
    """No API key, or one the server refused (invalid, revoked, expired, its user deactivated).

    The message says which server and where the key came from, and how to fix it (`trackwell
    login`, or ``TRACKWELL_API_KEY``); it never contains the key."""


class CommError(Error):
    """The server refused a request, or could not be reached (``status`` is None then)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PermissionDenied(CommError):
    """HTTP 403: the key is valid but may not do this (a read-only key writing, a viewer, a
    non-admin creating users)."""


def __getattr__(name: str) -> type[Exception]:
    # UsageError lives in the SDK; importing it here eagerly would load the whole SDK package
    # (trackwell.sdk's __init__) into processes that only query (Api) or only use the CLI.
    if name == "UsageError":
        from trackwell.sdk.errors import UsageError

        return UsageError
    raise AttributeError(f"module 'trackwell.errors' has no attribute {name!r}")
