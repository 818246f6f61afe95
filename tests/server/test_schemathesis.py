"""schemathesis over the server's own OpenAPI document (request bodies described with the
msgspec schemas of the structs the routes decode): no generated request, valid or not, gets a 5xx.
A real server per backend (SQLite, and PostgreSQL when ``TRACKWELL_TEST_POSTGRES_URL`` is set).

``TRACKWELL_SCHEMATHESIS_EXAMPLES`` (default 25 per operation) sets the budget; ``-s`` prints how
many requests ran and how the answers split.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from servers import LiveServer

from trackwell.server import create_app

EXAMPLES = int(os.environ.get("TRACKWELL_SCHEMATHESIS_EXAMPLES", "25"))
_answers: Counter[int] = Counter()


@schemathesis.serializer("application/msgpack")
def _msgpack(_ctx: Any, value: Any) -> bytes:
    try:
        return msgspec.msgpack.encode(value)
    except (OverflowError, UnicodeEncodeError, TypeError):  # not msgpack-able: send a byte msgpack never uses
        return b"\xc1"


# The document the server serves, built from the app without starting it (collection needs it
# before any server runs); the requests go to the real server process of ``shared_server``.
schema = schemathesis.openapi.from_dict(create_app("sqlite://", "unused.duckdb").openapi())


@pytest.fixture(scope="module", autouse=True)
def _report(shared_server: LiveServer) -> Iterator[None]:
    started = time.monotonic()
    yield
    print(f"\nschemathesis on {shared_server.url}: {sum(_answers.values())} requests in "
          f"{time.monotonic() - started:.0f} s, answers {dict(sorted(_answers.items()))}")
    _answers.clear()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case: Any, shared_server: LiveServer) -> None:
    response = case.call(base_url=shared_server.url, headers=shared_server.headers, timeout=60)
    _answers[response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error])
