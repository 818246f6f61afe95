"""The REST API of a real `trackwell server` process."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import msgspec
import pytest
from servers import http

from trackwell.schema import Batch, Console, Exit, History, RunStart, encode
from trackwell.transport._client import Client, SequenceGapError

MSGPACK = "application/msgpack"


def _records(entity: str, project: str, run_id: str, n: int) -> list[Any]:
    now = time.time()
    records: list[Any] = [RunStart(seq=1, ts=now, entity=entity, project=project, run_id=run_id, config={"lr": 0.1})]
    for i in range(n):
        value = math.nan if i == 1 else math.inf if i == 2 else float(i)
        records.append(History(seq=len(records) + 1, ts=now, step=i, runtime=i / 10, data={"loss": value, "step_name": f"s{i}"}))
    return records


def test_health_and_request_log(live_server: Any) -> None:
    response = http.get(f"{live_server.url}/api/v1/health", headers={"X-Trackwell-Retry-Id": "retry-abc123"})
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["version"]
    deadline = time.monotonic() + 5
    while "retry-abc123" not in live_server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "GET /api/v1/health 200" in live_server.log() and "retry-abc123" in live_server.log()


def test_ingest_over_http_msgpack_and_json(live_server: Any) -> None:
    with Client(live_server.url, max_attempts=1) as client:
        records = _records("team", "proj", "run1", 10)
        ack = client.send_batch("team", "proj", "run1", Batch(writer="w1", records=records[:6]))
        assert ack.applied_seq == 6
        # A resend overlapping what was applied is acknowledged without duplicating anything.
        assert client.send_batch("team", "proj", "run1", Batch(writer="w1", records=records[3:])).applied_seq == 11
        with pytest.raises(SequenceGapError) as info:
            client.send_batch("team", "proj", "run1", Batch(writer="w1", records=[
                Exit(seq=20, ts=time.time(), exit_code=0, runtime=1.0)]))
        assert info.value.applied_seq == 11 and info.value.status == 409

        run_msgpack = client.get("/api/v1/runs/team/proj/run1")
        run_json = client.get("/api/v1/runs/team/proj/run1", msgpack=False)
    assert run_msgpack["config"] == {"lr": 0.1} and run_msgpack["summary"]["loss"] == 9.0
    rows = http.get(f"{live_server.url}/api/v1/runs/team/proj/run1/history", params={"keys": "loss"},
                     headers={"Accept": MSGPACK})
    assert rows.headers["content-type"] == MSGPACK
    values = [r["loss"] for r in msgspec.msgpack.decode(rows.content)["rows"]]
    assert len(values) == 10 and math.isnan(values[1]) and values[2] == math.inf
    as_json = http.get(f"{live_server.url}/api/v1/runs/team/proj/run1/history", params={"keys": "loss"}).json()
    assert [r["loss"] for r in as_json["rows"]][:3] == [0.0, "NaN", "Infinity"]
    assert run_json["summary"]["loss"] == 9.0

    # A JSON batch may carry Python's NaN/Infinity literals.
    body = ('{"writer": "w2", "records": [{"kind": "run", "seq": 1, "ts": 1.0, "entity": "team", '
            '"project": "proj", "run_id": "run2"}, {"kind": "history", "seq": 2, "ts": 1.0, "step": 0, '
            '"runtime": 0.0, "data": {"x": NaN, "y": -Infinity}}]}')
    response = http.post(f"{live_server.url}/api/v1/runs/team/proj/run2/records", content=body,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json() == {"writer": "w2", "applied_seq": 2, "state": "running"}
    metrics = http.get(f"{live_server.url}/api/v1/runs/team/proj/run2/metrics").json()["metrics"]
    assert metrics["x"]["last"] == "NaN" and metrics["y"]["min"] == "-Infinity"


def test_errors_are_clear(live_server: Any) -> None:
    base = f"{live_server.url}/api/v1/runs/team/proj"
    bad = http.post(f"{base}/run1/records", content=b'{"writer": "w", "records": [{"kind": "history", "seq": "one"}]}',
                     headers={"Content-Type": "application/json"})
    assert bad.status_code == 422 and "$.records[0].seq" in bad.json()["detail"]
    bad = http.post(f"{base}/run1/records", content=b"\x93not msgpack", headers={"Content-Type": MSGPACK})
    assert bad.status_code == 422 and "run1" in bad.json()["detail"]
    gap = Batch(writer="w", records=[RunStart(seq=1, ts=0, entity="team", project="proj", run_id="run1"),
                                     Console(seq=3, ts=0, stream="stdout", lines=["x"])])
    bad = http.post(f"{base}/run1/records", content=encode(gap), headers={"Content-Type": MSGPACK})
    assert bad.status_code == 422 and "records[1].seq is 3, expected 2" in bad.json()["detail"]

    missing = http.get(f"{base}/nope")
    assert missing.status_code == 404 and "team/proj/nope" in missing.json()["detail"]
    assert http.get(f"{base}/nope/history").status_code == 404
    filters = http.get(base, params={"filters": json.dumps({"summary.loss": {"$between": [1, 2]}})})
    assert filters.status_code == 400 and "$between" in filters.json()["detail"]
    assert http.get(base, params={"filters": "{not json"}).status_code == 400
    assert http.get(base, params={"limit": 5000}).status_code == 400
    body = http.put(f"{base}/run9", json={"colour": "red"})
    assert body.status_code == 422 and "colour" in body.json()["detail"]


def test_runs_list_history_export_and_console(live_server: Any) -> None:
    base = f"{live_server.url}/api/v1/runs/team/proj"
    with Client(live_server.url, max_attempts=1) as client:
        for i in range(5):
            records = _records("team", "proj", f"run{i}", 3 + i)
            records.append(Console(seq=len(records) + 1, ts=1.0, stream="stderr", lines=[f"line {k}" for k in range(3)]))
            client.send_batch("team", "proj", f"run{i}", Batch(writer=f"w{i}", records=records))
        run = client.upsert_run("team", "proj", "run0", name="first", tags=["best"], config={"extra": 1})
    assert run["name"] == "first" and run["config"] == {"lr": 0.1, "extra": 1}

    seen, cursor = [], None
    while True:
        page = http.get(base, params={"order": "-summary.loss", "limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [r["id"] for r in page["runs"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["run4", "run3", "run2", "run1", "run0"]
    tagged = http.get(base, params={"filters": json.dumps({"tags": "best"})}).json()["runs"]
    assert [r["name"] for r in tagged] == ["first"]

    export = http.get(f"{base}/run4/history/export")
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [r["_step"] for r in lines] == list(range(7)) and lines[1]["loss"] == "NaN" and lines[6]["step_name"] == "s6"
    scan = http.get(f"{base}/run4/history/scan", params={"keys": "loss", "min_step": 2, "page_size": 3}).json()
    assert scan == {"rows": [{"_step": 2, "loss": "Infinity"}, {"_step": 3, "loss": 3.0}, {"_step": 4, "loss": 4.0}],
                    "next_step": 5}
    buckets = http.get(f"{base}/run4/history/buckets", params={"key": "loss", "buckets": 2}).json()
    assert buckets["count"] == 7 and buckets["first"] == {"step": 0, "value": 0.0} and len(buckets["buckets"]) == 2
    unknown = http.get(f"{base}/run4/history/buckets", params={"key": "acc"})
    assert unknown.status_code == 404 and "'acc'" in unknown.json()["detail"] and "loss" in unknown.json()["detail"]

    console = http.get(f"{base}/run4/console", params={"limit": 2}).json()
    assert console["lines"][0]["text"] == "line 0" and console["lines"][0]["stream"] == "stderr"
    assert console["next_offset"] == 2
    rest = http.get(f"{base}/run4/console", params={"offset": 2}).json()
    assert [line["text"] for line in rest["lines"]] == ["line 2"] and rest["next_offset"] is None
