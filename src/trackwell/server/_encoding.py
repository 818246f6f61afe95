"""Request and response bodies: JSON (non-finite floats as strings) or msgpack (floats as-is)."""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
from fastapi import Request
from fastapi.responses import Response

MSGPACK = "application/msgpack"
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def finite_json(obj: Any) -> Any:
    """``obj`` with NaN/±Inf floats replaced by "NaN"/"Infinity"/"-Infinity" (JSON has no literal)."""
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "NaN" if math.isnan(obj) else _NON_FINITE[obj]
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def wants_msgpack(request: Request) -> bool:
    return MSGPACK in request.headers.get("accept", "")


def json_bytes(obj: Any) -> bytes:
    return msgspec.json.encode(finite_json(obj))


def respond(request: Request, payload: Any, status_code: int = 200) -> Response:
    if wants_msgpack(request):
        return Response(msgspec.msgpack.encode(payload), status_code=status_code, media_type=MSGPACK)
    return Response(json_bytes(payload), status_code=status_code, media_type="application/json")


def is_msgpack_body(request: Request) -> bool:
    ctype = request.headers.get("content-type", "")
    return ctype.startswith(MSGPACK) or ctype.startswith("application/x-msgpack")


def decode_body(request: Request, body: bytes, kind: Any) -> Any:
    """Decode a msgpack or JSON body into ``kind``; raises ``ValueError`` with the offending path.

    JSON goes through Python's parser because it accepts NaN/Infinity literals, which clients
    written in Python emit for non-finite metrics.
    """
    try:
        if is_msgpack_body(request):
            return msgspec.msgpack.decode(body, type=kind)
        return msgspec.convert(json.loads(body), kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValueError(str(exc)) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"body is not valid JSON ({exc}); send JSON or msgpack with "
                         f"Content-Type: {MSGPACK}") from exc
