"""A bounded fuzz of the write path against a real server (SQLite, and PostgreSQL when
``TRACKWELL_TEST_POSTGRES_URL`` is set): random batches of every record kind with extreme ints and
floats, unicode with lone surrogates and NUL, deep nesting and huge keys, as JSON or msgpack, and
random run bodies. The server never answers 5xx, and every run it created stays readable.

``TRACKWELL_FUZZ_EXAMPLES`` (default 150 per backend) sets the budget; run with ``-s`` to see how
many examples ran and how the answers split.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from typing import Any

import httpx
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import LiveServer

EXAMPLES = int(os.environ.get("TRACKWELL_FUZZ_EXAMPLES", "150"))
EDGE_INTS = [0, -1, 2**31 - 1, 2**31, 2**53, 2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]

nasty_chars = st.sampled_from(["\x00", "\ud800", "\udfff", "\n", "$float", "$$float", ",", "é", "\U0001f600"])
nasty_text = st.lists(st.one_of(st.characters(exclude_categories=()), nasty_chars), max_size=12).map("".join)
plain_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12)
text = st.one_of(plain_text, plain_text, plain_text, nasty_text)  # mostly valid: the stores get exercised
keys = st.one_of(plain_text, plain_text, st.sampled_from(["loss", "_runtime", "a,b", "$float"]), nasty_text,
                 st.integers(505, 520).map(lambda n: "k" * n))
ints = st.one_of(st.integers(0, 10**6), st.integers(0, 10), st.sampled_from(EDGE_INTS), st.integers(-(2**70), 2**70))
floats = st.floats(allow_nan=True, allow_infinity=True)
times = st.one_of(st.floats(0, 1e9), st.floats(0, 1e9), floats)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, text)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3),
    inner.map(lambda v: {"$float": v}), inner.map(lambda v: {"$$float": v})), max_leaves=12)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    value: Any = draw(scalars)
    for _ in range(draw(st.integers(60, 70))):
        value = {"d": value} if draw(st.booleans()) else [value]
    return value


any_value = st.one_of(values, values, values, deep())
mappings = st.dictionaries(keys, any_value, max_size=4)


def record(kind: str, draw: st.DrawFn, path: tuple[str, str, str]) -> dict[str, Any]:
    if kind == "run":
        entity, project, run_id = path
        return {"entity": entity, "project": project, "run_id": draw(st.sampled_from([run_id] * 5 + ["other"])),
                "name": draw(st.sampled_from([None, "n" * 300]) | text), "tags": draw(st.lists(text, max_size=3)),
                "config": draw(mappings), "notes": draw(st.none() | text), "host": draw(st.none() | text),
                "pid": draw(st.none() | ints), "resume": draw(st.sampled_from([None, "allow", "never", "bogus"]))}
    if kind == "history":
        return {"step": draw(ints), "runtime": draw(times), "data": draw(st.dictionaries(keys, any_value, max_size=5))}
    if kind == "config":
        return {"data": draw(mappings)}
    if kind == "summary":
        return {"update": draw(mappings), "remove": draw(st.lists(keys, max_size=2))}
    if kind == "metric":
        return {"name": draw(keys), "summary": draw(st.sampled_from([None, "min", "max", "mean", "last", "none", "p50"]))}
    if kind == "console":
        return {"stream": draw(st.sampled_from(["stdout", "stderr", "x" * 20, "\x00"])), "lines": draw(st.lists(text, max_size=3))}
    if kind == "exit":
        return {"exit_code": draw(ints), "runtime": draw(times)}
    if kind == "skipped":
        return {"reason": draw(text)}
    return {}


KINDS = ["history", "history", "history", "config", "summary", "metric", "console", "exit", "preempting", "skipped"]


@st.composite
def batches(draw: st.DrawFn, path: tuple[str, str, str]) -> list[dict[str, Any]]:
    kinds = ["run", *draw(st.lists(st.sampled_from(KINDS), max_size=6))]
    records = [{"kind": kind, "seq": i + 1, "ts": draw(times), **record(kind, draw, path)}
               for i, kind in enumerate(kinds)]
    if draw(st.integers(0, 9)) == 0:  # now and then a seq no writer could have
        records[-1]["seq"] = draw(ints)
    return records


def _encode(body: dict[str, Any], use_msgpack: bool) -> tuple[bytes, str]:
    if use_msgpack:
        try:
            return msgspec.msgpack.encode(body), "application/msgpack"
        except (UnicodeEncodeError, OverflowError):  # msgpack cannot carry these; JSON can
            pass
    return json.dumps(body).encode(), "application/json"


def _readable(http: httpx.Client, base: str, path: str) -> None:
    run = http.get(f"{base}/{path}")
    assert run.status_code in (200, 404), run.text[:300]
    listed = http.get(base)
    assert listed.status_code == 200, listed.text[:300]
    if run.status_code == 404:
        return
    for suffix in ("/metrics", "/history", "/history/scan", "/console", "/resume"):
        response = http.get(f"{base}/{path}{suffix}")
        assert response.status_code == 200, (suffix, response.text[:300])
    for key in list(http.get(f"{base}/{path}/metrics").json()["metrics"])[:5]:
        response = http.get(f"{base}/{path}/history/buckets", params={"key": key})
        assert response.status_code == 200, (key, response.text[:300])
    for order in ("-summary.loss", "config.a", "-runtime", "name"):
        response = http.get(base, params={"order": order, "limit": 3})
        assert response.status_code == 200, (order, response.text[:300])


def test_fuzz_the_write_path(shared_server: LiveServer) -> None:
    project = f"fuzz-{uuid.uuid4().hex[:8]}"
    base = f"{shared_server.url}/api/v1/runs/team/{project}"
    answers: Counter[int] = Counter()
    examples = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(data=st.data())
    def write(data: st.DataObject) -> None:
        nonlocal examples
        examples += 1
        run_id = f"r{examples}"
        path = ("team", project, run_id)
        with httpx.Client(timeout=60, headers=shared_server.headers) as http:
            if data.draw(st.booleans(), label="put first"):
                body = {"name": data.draw(st.none() | text), "tags": data.draw(st.none() | st.lists(text, max_size=2)),
                        "config": data.draw(st.none() | mappings), "notes": data.draw(st.none() | text)}
                content, ctype = _encode({k: v for k, v in body.items() if v is not None}, data.draw(st.booleans()))
                put = http.put(f"{base}/{run_id}", content=content, headers={"Content-Type": ctype})
                answers[put.status_code] += 1
                assert put.status_code < 500, put.text[:500]
            records = data.draw(batches(path), label="records")
            writer, use_msgpack = uuid.uuid4().hex, data.draw(st.booleans())
            for _ in range(len(records) + 1):  # as the SDK does: set aside each record named, resend
                content, ctype = _encode({"writer": writer, "records": records}, use_msgpack)
                post = http.post(f"{base}/{run_id}/records", content=content, headers={"Content-Type": ctype})
                answers[post.status_code] += 1
                assert post.status_code < 500, post.text[:500]
                index = post.json().get("index") if post.status_code == 422 else None
                if index is None:
                    break
                bad = records[index]
                records[index] = {"kind": "skipped", "seq": bad["seq"], "ts": 1.0, "reason": "set aside by the fuzz"}
            _readable(http, base, run_id)

    write()
    print(f"\nfuzz on {shared_server.url}: {examples} examples, answers {dict(sorted(answers.items()))}")
    assert answers[200] > 0  # the fuzz reached the stores, not only the validator
