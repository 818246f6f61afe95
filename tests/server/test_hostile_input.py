"""Hostile or unlucky input never breaks the server (issue 7: finding 1, and every server-side
item of 6). Each answer is a 4xx naming the problem, and the run and the runs list stay readable.
Real server processes; what touches the stores runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import math
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import LiveServer, http, start_server

from trackwell.schema import Batch, ConfigUpdate, Console, Exit, Skipped, SummaryUpdate
from trackwell.transport import Client, ServerError, send_halving

BIG = 2**64


def _detail(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    return str(response.json()["detail"])


# -- finding 1: a record the database refuses ----------------------------------------------

def test_refused_record_is_named_and_the_rest_of_the_run_arrives(shared_server: LiveServer, run_class: Any,
                                                                 assert_readable: Any) -> None:
    run = run_class(shared_server.url)
    records = [run.start(config={"lr": 0.1}), run.row({"loss": 1.0}), run.row({"k" * 600: 1.0}),
               run.row({"loss": 0.5, "note": "a NUL\x00byte"}), run.row({"loss": 0.25}),
               run.record(Console, stream="stdout", lines=["ok"]), run.record(Exit, exit_code=0, runtime=3.0)]
    refused = run.post(records)
    assert refused.status_code == 422
    body = refused.json()
    assert (body["error"], body["index"], body["seq"]) == ("invalid_record", 2, 3)
    assert "records[2] (seq 3, history)" in body["detail"] and "longer than 512 characters" in body["detail"]

    # The transport sets aside exactly the records named, sending the others around them.
    posts: list[list[int]] = []
    set_aside: list[tuple[int, str]] = []
    with Client(shared_server.url, max_attempts=1) as client:
        def send(items: Any) -> None:
            posts.append([r.seq for r in items])
            client.send_batch(run.entity, run.project, run.run_id, Batch(writer=run.writer, records=list(items)))

        def refuse(item: Any, exc: ServerError) -> None:
            set_aside.append((item.seq, str(exc.detail)))
            skipped = Skipped(seq=item.seq, ts=item.ts, reason="dead-lettered")
            client.send_batch(run.entity, run.project, run.run_id, Batch(writer=run.writer, records=[skipped]))

        send_halving(records, send, refuse)
    assert [seq for seq, _ in set_aside] == [3, 4] and "NUL character" in set_aside[1][1]
    assert posts == [[1, 2, 3, 4, 5, 6, 7], [1, 2], [4, 5, 6, 7], [5, 6, 7]]
    got = http.get(run.api, timeout=30).json()
    assert got["state"] == "finished" and got["summary"]["loss"] == 0.25
    assert [line["text"] for line in http.get(f"{run.api}/console").json()["lines"]] == ["ok"]
    assert_readable(run)


@pytest.mark.parametrize(("bad", "problem"), [
    ({"kind": "history", "step": 2**63 - 1, "runtime": 0.0, "data": {"x": 1.0}}, "step"),
    ({"kind": "history", "step": -1, "runtime": 0.0, "data": {"x": 1.0}}, "step"),
    ({"kind": "history", "step": 0, "runtime": math.inf, "data": {"x": 1.0}}, "runtime"),
    ({"kind": "history", "step": 0, "runtime": 0.0, "data": {"x": BIG * 4}}, "outside [-2**63, 2**64)"),
    ({"kind": "history", "step": 0, "runtime": 0.0, "data": {"x\u0000y": 1.0}}, "NUL"),
    ({"kind": "exit", "exit_code": 2**31, "runtime": 1.0}, "exit_code"),
    ({"kind": "exit", "exit_code": BIG, "runtime": 1.0}, "exit_code"),
    ({"kind": "console", "stream": "stdout", "lines": ["\ud800"]}, "lone surrogate"),
    ({"kind": "config", "data": {"a": "\ud800"}}, "lone surrogate"),
    ({"kind": "summary", "update": {"s" * 513: 1}}, "longer than 512"),
    ({"kind": "metric", "name": "loss", "summary": "median"}, "summary"),
])
def test_values_the_stores_would_refuse_are_422_naming_the_record(shared_server: LiveServer, run_class: Any,
                                                                  assert_readable: Any, bad: dict[str, Any],
                                                                  problem: str) -> None:
    run = run_class(shared_server.url)
    assert run.post([run.start(), run.row({"x": 1.0})]).status_code == 200
    body = json.dumps({"writer": run.writer, "records": [{**bad, "seq": 3, "ts": 1.0}]})
    refused = run.post_json(body)
    assert refused.status_code == 422 and refused.json()["seq"] == 3 and refused.json()["index"] == 0
    assert problem in _detail(refused)
    huge_seq = json.dumps({"writer": run.writer, "records": [{"kind": "preempting", "seq": BIG, "ts": 1.0}]})
    assert run.post_json(huge_seq).status_code == 422
    assert_readable(run)


# -- 6b: values stored but not readable back -------------------------------------------------

def test_float_tag_is_escaped_and_bad_text_is_refused(shared_server: LiveServer, run_class: Any,
                                                      assert_readable: Any) -> None:
    run = run_class(shared_server.url)
    tricky = {"a": {"$float": "abc"}, "b": {"$float": "1e3"}, "c": {"$$float": 2}, "d": [{"$float": "NaN"}]}
    put = http.put(run.api, content=json.dumps({"config": {**tricky, "nan": math.nan}}),
                    headers={"Content-Type": "application/json"})
    assert put.status_code == 200, put.text
    assert http.get(run.api).json()["config"] == {**tricky, "nan": "NaN"}
    assert run.post([run.start(config={"e": {"$float": "Infinity"}}),
                     run.record(ConfigUpdate, data={"f": {"$float": "-Infinity"}}),
                     run.record(SummaryUpdate, update={"g": {"$$$float": "x"}})]).status_code == 200
    got = http.get(run.api).json()
    assert got["config"]["e"] == {"$float": "Infinity"} and got["config"]["f"] == {"$float": "-Infinity"}
    assert got["summary"]["g"] == {"$$$float": "x"}

    deep: Any = 1
    for _ in range(490):
        deep = {"d": deep}
    for body, problem in [({"config": {"x": "\ud800"}}, "lone surrogate"), ({"tags": ["ok", "\ud800"]}, "lone surrogate"),
                          ({"config": deep}, "nested more than 64"), ({"name": "n" * 300}, "longer than 256"),
                          ({"notes": "a\u0000b"}, "NUL")]:
        refused = http.put(run.api, content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert refused.status_code == 422 and problem in _detail(refused), (body.keys(), refused.text[:300])
    assert http.get(run.api).json()["config"]["a"] == {"$float": "abc"}
    assert_readable(run)


# -- 6c: integers past 64 bits ---------------------------------------------------------------

def test_integer_parameters_are_bounded(shared_server: LiveServer, run_class: Any, assert_readable: Any) -> None:
    run = run_class(shared_server.url)
    assert run.post([run.start(), run.row({"x": 1.0}), run.row({"x": 2.0}, step=2**62)]).status_code == 200
    for path, params, name in [("/console", {"offset": BIG}, "offset"), ("/console", {"offset": 2**40}, "offset"), ("/history/buckets", {"key": "x", "min_step": BIG}, "min_step"),
                               ("/history/buckets", {"key": "x", "max_step": -BIG}, "max_step"),
                               ("/history/buckets", {"key": "x", "buckets": BIG}, "buckets"),
                               ("/history", {"samples": BIG}, "samples"), ("/history/scan", {"min_step": BIG}, "min_step"),
                               ("/history/scan", {"page_size": BIG}, "page_size")]:
        response = http.get(run.api + path, params=params)
        assert response.status_code == 422 and name in _detail(response), (path, params, response.text[:300])
    for path, body in [("/rewind", {"step": BIG}), ("/fork", {"source": run.run_id, "step": BIG})]:
        response = http.post(run.api + path, content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert response.status_code == 422 and "step" in _detail(response)
    base = f"{shared_server.url}/api/v1/runs/{run.entity}/{run.project}"
    cursor = base64.urlsafe_b64encode(json.dumps([0, BIG, 1]).encode()).decode()
    wide_pk = base64.urlsafe_b64encode(json.dumps([0, 1.0, 2**40]).encode()).decode()
    for params in [{"filters": json.dumps({"exit_code": BIG})}, {"filters": json.dumps({"summary.x": {"$gt": -BIG}})},
                   {"filters": json.dumps({"exit_code": {"$in": [1, 2**40]}})}, {"limit": BIG},
                   {"cursor": cursor, "order": "runtime"}, {"cursor": wide_pk, "order": "runtime"}]:
        response = http.get(base, params=params)
        assert response.status_code == 400, (params, response.text[:300])
    buckets = http.get(f"{run.api}/history/buckets", params={"key": "x"}).json()
    assert buckets["count"] == 2 and buckets["last"]["step"] == 2**62
    assert_readable(run)


# -- 6a: $regex -------------------------------------------------------------------------------

def test_regex_filters_run_in_linear_time_and_name_bad_patterns(shared_server: LiveServer, run_class: Any,
                                                                backend_args: list[str]) -> None:
    run = run_class(shared_server.url)
    http.put(run.api, json={"name": "a" * 48, "config": {"s": "a" * 48}}).raise_for_status()
    base = f"{shared_server.url}/api/v1/runs/{run.entity}/{run.project}"
    for field in ("name", "config.s", "tags"):  # catastrophic for a backtracking engine
        found = http.get(base, params={"filters": json.dumps({field: {"$regex": "(a|a)*b"}})}, timeout=60)
        assert found.status_code == 200 and found.json()["runs"] == []
    hit = http.get(base, params={"filters": json.dumps({"name": {"$regex": "^a{48}$"}})}).json()["runs"]
    assert [r["id"] for r in hit] == [run.run_id]
    refused = http.get(base, params={"filters": json.dumps({"name": {"$regex": "(a)\\1"}})})
    assert refused.status_code == 400 and "(a)\\\\1" in _detail(refused) and "RE2" in _detail(refused)
    named = http.get(base, params={"filters": json.dumps({"name": {"$regex": "(?P<x>a)"}})})
    if backend_args:  # RE2 takes it, PostgreSQL's engine does not: still a 400 naming it, never a 500
        assert named.status_code == 400 and "(?P<x>a)" in _detail(named) and "PostgreSQL" in _detail(named)
    else:
        assert named.status_code == 200 and len(named.json()["runs"]) == 1


def test_regex_query_over_its_time_budget_is_400_naming_the_pattern(tmp_path: Path, backend_args: list[str],
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     run_class: Any) -> None:
    monkeypatch.setenv("TRACKWELL_QUERY_BUDGET", "0.0001")  # 0.1 ms (PostgreSQL: its 1 ms minimum)
    server = start_server(tmp_path / "server", *backend_args)
    try:
        run = run_class(server.url)
        base = f"{server.url}/api/v1/runs/{run.entity}/{run.project}"
        with httpx.Client(timeout=30, headers=server.headers) as client:
            for i in range(150):
                client.put(f"{base}/r{i}", json={"name": "a" * 200}).raise_for_status()
        pattern = "((a{1,10}){1,10}){1,10}b"
        slow = http.get(base, params={"filters": json.dumps({"name": {"$regex": pattern}})}, timeout=60)
        assert slow.status_code == 400 and pattern in _detail(slow) and "budget" in _detail(slow)
        assert http.get(base, params={"limit": 5}).status_code == 200  # other queries have no budget
    finally:
        server.stop()


# -- 6d: keys per batch ------------------------------------------------------------------------

def test_keys_per_batch_are_bounded_and_split_by_the_client(tmp_path: Path, backend_args: list[str],
                                                            run_class: Any, assert_readable: Any) -> None:
    server = start_server(tmp_path / "server", *backend_args, "--max-keys-per-batch", "1000")
    try:
        run = run_class(server.url)
        wide = [run.start(), run.row({f"a{i}": 1.0 for i in range(600)}), run.row({f"b{i}": 1.0 for i in range(600)})]
        refused = run.post(wide)
        assert refused.status_code == 422 and refused.json()["error"] == "too_many_keys"
        assert "1200" in _detail(refused) and "1000" in _detail(refused) and "index" not in refused.json()
        with Client(server.url, max_attempts=1) as client:
            send_halving(wide, lambda items: client.send_batch(run.entity, run.project, run.run_id, Batch(
                writer=run.writer, records=list(items))), lambda item, exc: pytest.fail(str(exc)))
        too_wide = run.post([run.row({f"c{i}": 1.0 for i in range(1001)})])
        assert too_wide.status_code == 422 and too_wide.json()["index"] == 0 and "in one row" in _detail(too_wide)
        assert len(http.get(f"{run.api}/metrics").json()["metrics"]) == 1200
        assert_readable(run)
    finally:
        server.stop()


# -- 6e: slow clients ---------------------------------------------------------------------------

def _closed_by_server(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sent before closing the connection (fails if it never closes it)."""
    received = b""
    while True:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)  # socket.timeout here: the server kept the connection open
        if not chunk:
            return received
        received += chunk


def test_slowloris_connections_are_closed_and_health_answers(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", "--header-timeout", "1", "--body-timeout", "1")
    address = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    sockets: list[socket.socket] = []
    try:
        for _ in range(300):
            sockets.append(socket.create_connection(address))
            sockets[-1].sendall(b"GET /api/v1/hea")  # half a request line, and then nothing
        sockets.append(socket.create_connection(address))
        sockets[-1].sendall(b"POST /api/v1/runs/t/p/r/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert http.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
        deadline = time.monotonic() + 60
        for sock in sockets:
            _closed_by_server(sock, deadline)
        end = time.monotonic() + 10
        while "records 499" not in server.log() and time.monotonic() < end:  # the abandoned body
            time.sleep(0.05)
        assert http.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
        end = time.monotonic() + 10
        while "no complete request head" not in server.log() and time.monotonic() < end:
            time.sleep(0.05)
        closed_lines = server.log().count("no complete request head")
        assert 1 <= closed_lines < 50  # 300 closures, one storm: collapsed by the log filter
        assert "Traceback" not in server.log() and " 500 " not in server.log()
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def test_connections_past_the_cap_get_503_at_once(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server", "--max-connections", "20")
    address = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    sockets = [socket.create_connection(address) for _ in range(30)]
    try:
        deadline = time.monotonic() + 30
        refused = [_closed_by_server(sock, deadline) for sock in sockets[20:]]
        assert all(answer.startswith(b"HTTP/1.1 503") and b"too_many_connections" in answer for answer in refused)
    finally:
        for sock in sockets:
            sock.close()
    end = time.monotonic() + 30
    while time.monotonic() < end:  # the idle ones are gone once closed: the server answers again
        if http.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the server kept answering 503 after the connections closed")
    server.stop()


# -- 6f: smaller ones ---------------------------------------------------------------------------

def test_a_path_cannot_forge_a_log_line(live_server: LiveServer) -> None:
    response = http.get(f"{live_server.url}/api/v1/runs/team/p%0Aforged%20line/r", timeout=10)
    assert response.status_code == 404
    end = time.monotonic() + 10
    while "p%0Aforged" not in live_server.log() and time.monotonic() < end:
        time.sleep(0.05)
    assert "GET /api/v1/runs/team/p%0Aforged%20line/r 404" in live_server.log()
    assert not any(line.startswith("forged") for line in live_server.log().splitlines())


def test_oversized_queries_are_400_and_echoes_are_clipped(shared_server: LiveServer, run_class: Any,
                                                          assert_readable: Any) -> None:
    run = run_class(shared_server.url)
    assert run.post([run.start(), run.row({"a,b": 1.0, "c": 2.0, "a": 3.0})]).status_code == 200
    base = f"{shared_server.url}/api/v1/runs/{run.entity}/{run.project}"
    deep = '{"$or":[' * 1000 + '{"state":"running"}' + "]}" * 1000
    listed = {"name": {"$in": [0] * 5000}}
    cursor = base64.urlsafe_b64encode(json.dumps([[1], [2], [3], [4]]).encode()).decode()
    for params, problem in [({"filters": deep}, "nested"), ({"filters": json.dumps(listed)}, "1000"),
                            ({"cursor": cursor}, "cursor"), ({"order": "name\u0000"}, "NUL"),
                            ({"filters": json.dumps({"name": 5})}, "string")]:
        response = http.get(base, params=params, timeout=30)
        assert response.status_code == 400 and problem in _detail(response), (problem, response.text[:300])

    rows = http.get(f"{run.api}/history", params={"keys": json.dumps(["a,b"])}).json()["rows"]
    assert rows == [{"_step": 0, "a,b": 1.0}]
    rows = http.get(f"{run.api}/history", params=[("keys", "a,b"), ("keys", "c")]).json()["rows"]
    assert rows == [{"_step": 0, "a,b": 1.0, "c": 2.0}]
    rows = http.get(f"{run.api}/history/scan", params={"keys": "a,c"}).json()["rows"]
    assert rows == [{"_step": 0, "a": 3.0, "c": 2.0}]  # keys=a,b keeps its meaning

    missing = http.get(f"{run.api}/history/buckets", params={"key": "k" * 10_000})
    assert missing.status_code == 404 and len(_detail(missing)) < 600 and "10000 characters" in _detail(missing)
    for path in ("/api/v1/runs/team/p%00x/r", "/api/v1/runs/team/p/" + "r" * 200 + "/history"):
        bad = http.get(shared_server.url + path)
        assert bad.status_code == 422 and "invalid path" in _detail(bad), bad.text[:300]
    assert_readable(run)
