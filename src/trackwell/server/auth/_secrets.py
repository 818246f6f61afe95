"""API keys, passwords and session tokens: how they are made, stored and checked.

A key is ``tw_<prefix>_<secret>``: 8 public characters to find it by, 32 random bytes of secret.
Only the SHA-256 of the whole key is stored; a high-entropy key needs no slow KDF, so checking it
costs microseconds (it runs on every batch). Passwords are low-entropy: scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

KEY_SCHEME = "tw"
PREFIX_CHARS = 8
_ALPHABET = string.ascii_lowercase + string.digits
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_key() -> tuple[str, str, str]:
    """(the key, shown once; its prefix; its digest, stored)."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_CHARS))
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, digest(key)


def split_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != PREFIX_CHARS or len(secret) < 32:
        return None
    if not (prefix.isascii() and prefix.isalnum()):
        return None
    return prefix


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + "$".join(
        base64.b64encode(x).decode() for x in (salt, derived))


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        hashlib.scrypt(b"", salt=b"0" * 16, dklen=32, **_SCRYPT)  # the same cost either way
        return False
    try:
        _, n, r, p, salt, derived = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(derived))
