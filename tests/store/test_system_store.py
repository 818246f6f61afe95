"""System samples and run metadata through ingest, on SQLite and PostgreSQL: stored once
(a resent batch adds nothing), read back as time-axis columns, downsampled by sample, metadata
merged by key; a shared run's secondary writer's machine under its label."""

from __future__ import annotations

import time
from typing import Any

from trackwell.schema import Batch, Exit, RunMetadata, RunStart, SystemSample
from trackwell.server.ingest import Ingestor


def _sample(seq: int, runtime: float, **values: float) -> SystemSample:
    return SystemSample(seq=seq, ts=time.time(), runtime=runtime, data={f"system/{k}": v for k, v in values.items()})


def test_samples_and_metadata_round_trip_exactly_once(ingestor: Ingestor, project: tuple[str, str]) -> None:
    entity, proj = project
    records: list[Any] = [RunStart(seq=1, ts=time.time(), entity=entity, project=proj, run_id="r1")]
    records += [_sample(2 + i, i * 15.0, cpu_percent=10.0 * i, **({"gpu/0/util_percent": 50.0} if i else {}))
                for i in range(10)]
    records.append(RunMetadata(seq=12, ts=time.time(), data={"host": "node-1", "git": {"commit": "abc"}}))
    ingestor.apply(entity, proj, "r1", Batch(writer="w", records=records))
    ingestor.apply(entity, proj, "r1", Batch(writer="w", records=records[5:]))  # a resend: nothing twice
    ingestor.apply(entity, proj, "r1", Batch(writer="w", records=[
        RunMetadata(seq=13, ts=time.time(), data={"code_path": "code/train.py"}),
        Exit(seq=14, ts=time.time(), exit_code=0, runtime=140.0)]))
    system = ingestor.services.system
    got = system.metrics(entity, proj, "r1", None, 1000)
    assert got["count"] == 10 and got["runtime"] == [i * 15.0 for i in range(10)]
    assert got["keys"] == ["system/cpu_percent", "system/gpu/0/util_percent"]
    assert got["series"]["system/cpu_percent"] == [10.0 * i for i in range(10)]
    assert got["series"]["system/gpu/0/util_percent"] == [None] + [50.0] * 9
    few = system.metrics(entity, proj, "r1", ["system/cpu_percent", "system/absent"], 4)
    assert few["runtime"] == [0.0, 45.0, 90.0, 135.0] and list(few["series"]) == ["system/cpu_percent"]
    meta = system.metadata(entity, proj, "r1")["metadata"]
    assert meta == {"host": "node-1", "git": {"commit": "abc"}, "code_path": "code/train.py"}
    assert ingestor.services.runs.get(entity, proj, "r1")["runtime"] == 140.0


def test_secondary_writer_machine_is_kept_under_its_label(ingestor: Ingestor, project: tuple[str, str]) -> None:
    entity, proj = project
    for writer, label, primary in (("w0", "rank-0", True), ("w1", "rank-1", False)):
        ingestor.apply(entity, proj, "shared", Batch(writer=writer, records=[
            RunStart(seq=1, ts=time.time(), entity=entity, project=proj, run_id="shared", shared=True,
                     label=label, primary=primary),
            _sample(2, 1.0, cpu_percent=1.0 if primary else 2.0),
            RunMetadata(seq=3, ts=time.time(), data={"host": label})]))
    system = ingestor.services.system
    got = system.metrics(entity, proj, "shared", None, 100)
    assert got["keys"] == ["system/cpu_percent", "system/rank-1/cpu_percent"]
    meta = system.metadata(entity, proj, "shared")["metadata"]
    assert meta["host"] == "rank-0" and meta["writers/rank-1"] == {"host": "rank-1"}
