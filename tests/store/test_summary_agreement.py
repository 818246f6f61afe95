"""One definition of summary semantics (``trackwell.schema.summary``): the SDK's local view of a
run's summary and the one the server computes at ingest agree, for any sequence of logged rows,
``define_metric`` modes (globs too), summary assignments and deletions.

Each example is a real offline SDK run; its journal is then ingested by the server's ingest
service, on SQLite and PostgreSQL. (``tests/e2e`` checks the same over a live server.)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackwell
from trackwell.schema import Batch
from trackwell.sdk.journal import JOURNAL_SUFFIX, JournalReader
from trackwell.server.ingest import Ingestor

KEYS = ["loss", "val/acc", "val/loss", "acc", "flag", "gone", "_runtime"]
PATTERNS = ["loss", "acc", "val/*", "*", "gone"]
MODES = ["min", "max", "mean", "last", "none", "first", "best", "min,max,last", "copy", None]

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.5]),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.sampled_from(["a", "b", ""]),
    st.none(),
)
# define_metric comes before the keys it names are logged (as in W&B): the SDK keeps statistics
# only for keys under min/max/mean, from the moment they are.
defines = st.lists(st.tuples(st.just("define"), st.tuples(st.sampled_from(PATTERNS), st.sampled_from(MODES))),
                   max_size=4)
steps = st.one_of(
    st.tuples(st.just("log"), st.dictionaries(st.sampled_from([k for k in KEYS if k != "_runtime"]), values,
                                              min_size=1, max_size=4)),
    st.tuples(st.just("assign"), st.tuples(st.sampled_from(KEYS), values)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
)


def _same(local: Any, remote: Any) -> bool:
    if isinstance(local, dict):  # define_metric's shapes: {"min": ..., "max": ...}
        return isinstance(remote, dict) and local.keys() == remote.keys() and all(
            _same(v, remote[k]) for k, v in local.items())
    if isinstance(local, float) and math.isnan(local):
        return isinstance(remote, float) and math.isnan(remote)
    if type(local) is bool or type(remote) is bool or isinstance(local, str | None):
        return local == remote and type(local) is type(remote)
    return bool(remote == pytest.approx(local, rel=1e-9, abs=1e-12, nan_ok=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.builds(list.__add__, defines, st.lists(steps, min_size=1, max_size=25)))
def test_sdk_and_server_summaries_agree(ingestor: Ingestor, project: tuple[str, str], tmp_path: Path,
                                        script: list[tuple[str, Any]]) -> None:
    run = trackwell.init(project=project[1], entity=project[0], mode="offline", dir=tmp_path, reinit=True,
                         settings={"quiet": True, "console": "off"})
    try:
        for op, arg in script:
            if op == "log":
                run.log(arg)
            elif op == "define":
                run.define_metric(arg[0], summary=arg[1])
            elif op == "assign":
                run.summary[arg[0]] = arg[1]
            elif arg in run.summary:
                del run.summary[arg]
        local = run.summary.as_dict()
    finally:
        run.finish(quiet=True)
    (journal,) = Path(tmp_path).glob(f"**/run-{run.id}{JOURNAL_SUFFIX}")
    reader = JournalReader(journal)
    ingestor.apply(*project, run.id, Batch(writer=reader.header.writer, records=reader.records()))
    remote = ingestor.metadata.get_run(*project, run.id)["summary"]
    assert set(local) == set(remote), script
    for key, value in local.items():
        assert _same(value, remote[key]), (key, value, remote[key], script)
