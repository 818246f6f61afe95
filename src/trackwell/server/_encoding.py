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


def readable(obj: Any) -> Any:
    """``obj`` with what no encoder takes made encodable: lone surrogates become U+FFFD, ints past
    64 bits floats. Validation keeps such values out; this is for rows stored before it did."""
    if isinstance(obj, str):
        return obj.encode("utf-8", "replace").decode("utf-8") if not obj.isascii() else obj
    if isinstance(obj, int) and not isinstance(obj, bool) and not -(2**63) <= obj < 2**64:
        return float(obj)
    if isinstance(obj, dict):
        return {readable(k): readable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [readable(v) for v in obj]
    return obj


def _encode(encode: Any, obj: Any) -> bytes:
    try:
        return encode(obj)  # type: ignore[no-any-return]
    except (UnicodeEncodeError, OverflowError):
        return encode(readable(obj))  # type: ignore[no-any-return]


def wants_msgpack(request: Request) -> bool:
    return MSGPACK in request.headers.get("accept", "")


def json_bytes(obj: Any) -> bytes:
    return _encode(msgspec.json.encode, finite_json(obj))


def respond(request: Request, payload: Any, status_code: int = 200) -> Response:
    if wants_msgpack(request):
        return Response(_encode(msgspec.msgpack.encode, payload), status_code=status_code, media_type=MSGPACK)
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
    except RecursionError:
        raise ValueError("body is nested too deeply to decode; values nest at most 64 levels") from None


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inlined(v, defs) for v in node]
    return node


def request_body(kind: Any) -> dict[str, Any]:
    """``openapi_extra`` describing a body the route decodes itself (``decode_body``): the schema
    msgspec derives from ``kind``, inlined (our bodies are not recursive), as JSON and msgpack.
    The raw-body fast path stays; the OpenAPI document (and schemathesis) knows the body."""
    schema = msgspec.json.schema(kind)
    inline = _inlined(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline},
                                                          MSGPACK: {"schema": inline}}}}
