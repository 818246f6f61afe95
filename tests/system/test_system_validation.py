"""The server refuses system samples it would not chart (422 naming the key and the fix)."""

from __future__ import annotations

import math
import time
from typing import Any

from servers import http

from trackwell.schema import Batch, RunMetadata, RunStart, SystemSample, encode


def _post(server: Any, run_id: str, *records: Any) -> Any:
    start = RunStart(seq=1, ts=time.time(), entity=server.entity, project="val", run_id=run_id)
    body = encode(Batch(writer="w" + run_id, records=[start, *records]))
    return http.post(f"{server.url}/api/v1/runs/{server.entity}/val/{run_id}/records", content=body,
                     headers={"Content-Type": "application/msgpack"}, timeout=30)


def test_bad_samples_are_refused_by_name(server: Any) -> None:
    now = time.time()
    cases = [
        (SystemSample(seq=2, ts=now, runtime=1.0, data={"cpu": 1.0}), "does not start with 'system/'"),
        (SystemSample(seq=2, ts=now, runtime=1.0, data={"system/cpu": math.nan}), "system value 'system/cpu' must be a finite number"),
        (SystemSample(seq=2, ts=now, runtime=math.inf, data={}), "runtime must be a finite number"),
        (SystemSample(seq=2, ts=now, runtime=1.0, data={f"system/c{i}": 1.0 for i in range(1001)}), "over the limit of 1000"),
        (RunMetadata(seq=2, ts=now, data={"host": "a\x00b"}), "NUL character"),
    ]
    for i, (record, problem) in enumerate(cases):
        r = _post(server, f"bad{i}", record)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "invalid_record" and body["index"] == 1 and problem in body["detail"], body


def test_good_sample_is_accepted(server: Any) -> None:
    r = _post(server, "good", SystemSample(seq=2, ts=time.time(), runtime=1.0, data={"system/cpu_percent": 3}))
    assert r.status_code == 200, r.text
