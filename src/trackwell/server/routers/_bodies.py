"""Decoding a route's body into its msgspec struct, with a 422 that says what was expected."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request

from trackwell.server._encoding import decode_body
from trackwell.server._errors import ApiError

T = TypeVar("T")


async def body_of(request: Request, kind: type[T], example: str, *, empty: bytes = b"{}") -> T:
    raw = await request.body()
    try:
        decoded: Any = decode_body(request, raw or empty, kind)
    except ValueError as exc:
        raise ApiError(422, f"invalid body: {exc}; expected {example}") from exc
    return decoded  # type: ignore[no-any-return]
