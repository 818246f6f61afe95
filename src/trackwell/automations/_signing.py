"""Standard Webhooks signatures (https://www.standardwebhooks.com, as Svix): the headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256(key,
"{id}.{timestamp}.{body}")>``. The server signs with these; receivers verify with ``verify`` (or
the ``standardwebhooks`` package, given the same ``whsec_`` secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

PREFIX = "whsec_"
TOLERANCE = 300  # seconds a timestamp may be away from now (replay protection)


class WebhookVerificationError(ValueError):
    """A webhook's signature or timestamp does not check out."""


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 24 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key: a ``whsec_`` secret is base64 after the prefix (the standard's form); any
    other string is used as its UTF-8 bytes."""
    if secret.startswith(PREFIX):
        return base64.b64decode(secret[len(PREFIX):])
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key_of(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str | None, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt (``webhook-signature`` only with a secret)."""
    ts = int(time.time()) if timestamp is None else timestamp
    out = {"webhook-id": msg_id, "webhook-timestamp": str(ts)}
    if secret:
        out["webhook-signature"] = signature(secret, msg_id, ts, body)
        # W&B's header, for receivers written against it: base64 HMAC-SHA256 of the body alone
        out["X-Wandb-Signature"] = base64.b64encode(hmac.new(key_of(secret), body, hashlib.sha256).digest()).decode()
    return out


def verify(secret: str, received: Mapping[str, str], body: bytes, tolerance: float = TOLERANCE) -> None:
    """Raise ``WebhookVerificationError`` unless ``received`` headers sign ``body`` with ``secret``
    at a timestamp within ``tolerance`` seconds of now."""
    lower = {k.lower(): v for k, v in received.items()}
    try:
        msg_id, ts = lower["webhook-id"], int(lower["webhook-timestamp"])
        sent = lower["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError(f"missing or malformed webhook headers: {exc}") from None
    if abs(time.time() - ts) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp {ts} is more than {tolerance:.0f} s from now")
    expected = signature(secret, msg_id, ts, body)
    if not any(hmac.compare_digest(expected, s) for s in sent):
        raise WebhookVerificationError("no webhook-signature matches the body and secret")
