"""Runs list: filters, ordering with NULLs and mixed types, keyset pagination."""

from __future__ import annotations

from typing import Any

import pytest

from trackwell.schema import SummaryUpdate
from trackwell.server.ingest import Ingestor
from trackwell.store.metadata import QueryError

# run id -> (pinned summary "loss" or None for none, config, tags)
RUNS: dict[str, tuple[Any, dict[str, Any], list[str]]] = {
    "r0": (0.5, {"lr": 0.1, "opt": {"name": "adam"}}, ["base"]),
    "r1": (0.2, {"lr": 0.01, "opt": {"name": "sgd"}}, ["base", "tuned"]),
    "r2": (None, {"lr": 0.001}, []),  # no loss at all
    "r3": ("diverged", {"lr": 1.0, "opt": {"name": "adam"}}, ["tuned"]),
    "r4": (0.2, {"lr": 0.05}, ["other"]),
    "r5": (True, {"lr": 0.5, "note": None}, []),
    "r6": (0.9, {"lr": 0.3}, ["base"]),
}


@pytest.fixture
def populated(ingestor: Ingestor, project: tuple[str, str], journal: Any) -> tuple[Ingestor, str, str]:
    for run_id, (loss, config, tags) in RUNS.items():
        j = journal(*project, run_id)
        records = [j.start(config=config, tags=tags, name=f"name-{run_id}")]
        if loss is not None:
            records.append(j.record(SummaryUpdate, update={"loss": loss}))
        ingestor.apply(*project, run_id, j.batch(records))
    ingestor.metadata.upsert_run(*project, "r6", {"group": "sweep-1"})
    return (ingestor, *project)


def _ids(populated: tuple[Ingestor, str, str], **kwargs: Any) -> list[str]:
    ing, entity, project = populated
    runs, _ = ing.metadata.list_runs(entity, project, limit=1000, **kwargs)
    return [r["id"] for r in runs]


def _all_pages(populated: tuple[Ingestor, str, str], order: str, limit: int) -> list[str]:
    ing, entity, project = populated
    seen: list[str] = []
    cursor = None
    while True:
        runs, cursor = ing.metadata.list_runs(entity, project, order=order, limit=limit, cursor=cursor)
        seen += [r["id"] for r in runs]
        if cursor is None:
            return seen


@pytest.mark.parametrize("filters, expected", [
    ({"config.lr": {"$gte": 0.05}}, {"r0", "r3", "r4", "r5", "r6"}),
    ({"config.opt.name": "adam"}, {"r0", "r3"}),
    ({"summary.loss": {"$lt": 0.6}}, {"r0", "r1", "r4"}),
    ({"summary_metrics.loss": {"$in": [0.2, "diverged"]}}, {"r1", "r3", "r4"}),
    ({"summary.loss": {"$exists": False}}, {"r2"}),
    ({"summary.loss": {"$ne": 0.2}}, {"r0", "r2", "r3", "r5", "r6"}),
    ({"summary.loss": True}, {"r5"}),
    ({"summary.loss": {"$regex": "^div"}}, {"r3"}),
    ({"config.note": None}, {"r0", "r1", "r2", "r3", "r4", "r5", "r6"}),
    ({"tags": "base"}, {"r0", "r1", "r6"}),
    ({"tags": {"$in": ["tuned", "other"]}}, {"r1", "r3", "r4"}),
    ({"tags": {"$all": ["base", "tuned"]}}, {"r1"}),
    ({"tags": {"$nin": ["base"]}}, {"r2", "r3", "r4", "r5"}),
    ({"name": {"$regex": "r[12]$"}}, {"r1", "r2"}),
    ({"group": "sweep-1"}, {"r6"}),
    ({"group": None, "state": "running"}, {"r0", "r1", "r2", "r3", "r4", "r5"}),
    ({"$or": [{"config.lr": {"$lt": 0.01}}, {"tags": "other"}]}, {"r2", "r4"}),
    ({"$and": [{"config.lr": {"$gt": 0.01}}, {"config.lr": {"$lt": 0.5}}]}, {"r0", "r4", "r6"}),
    ({"created_at": {"$gt": "2000-01-01T00:00:00Z"}}, set(RUNS)),
])
def test_filters(populated: tuple[Ingestor, str, str], filters: dict[str, Any], expected: set[str]) -> None:
    assert set(_ids(populated, filters=filters)) == expected


@pytest.mark.parametrize("filters, message", [
    ({"colour": "red"}, "unknown filter field 'colour'"),
    ({"config.lr": {"$near": 1}}, "unknown filter operator '$near' on 'config.lr'"),
    ({"$nor": []}, "unknown filter operator '$nor'"),
    ({"tags": {"$in": "base"}}, "needs a list"),
    ({"name": {"$regex": "("}}, "invalid $regex"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_filters_name_the_problem(populated: tuple[Ingestor, str, str], filters: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("$", r"\$").replace("(", r"\(")):
        _ids(populated, filters=filters)


def test_order_by_summary_mixed_types_nulls_last(populated: tuple[Ingestor, str, str]) -> None:
    # numbers, then strings, then bools, then missing; ties broken by insertion order
    assert _ids(populated, order="+summary.loss") == ["r1", "r4", "r0", "r6", "r3", "r5", "r2"]
    assert _ids(populated, order="-summary.loss") == ["r6", "r0", "r4", "r1", "r3", "r5", "r2"]
    assert _ids(populated, order="-config.lr") == ["r3", "r5", "r6", "r0", "r4", "r1", "r2"]
    assert _ids(populated, order="+group")[0] == "r6"  # NULL groups last even ascending
    assert _ids(populated, order="-group")[0] == "r6"


@pytest.mark.parametrize("order", ["+summary.loss", "-summary.loss", "-created_at", "+name", "-group",
                                   "+config.opt.name", "-config.lr", "+exit_code"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_cursor_pagination_matches_one_page(populated: tuple[Ingestor, str, str], order: str, limit: int) -> None:
    assert _all_pages(populated, order, limit) == _ids(populated, order=order)


def test_bad_order_limit_and_cursor(populated: tuple[Ingestor, str, str]) -> None:
    ing, entity, project = populated
    with pytest.raises(QueryError, match="cannot order by 'colour'"):
        ing.metadata.list_runs(entity, project, order="-colour")
    with pytest.raises(QueryError, match="limit must be between 1 and 1000"):
        ing.metadata.list_runs(entity, project, limit=5000)
    with pytest.raises(QueryError, match="malformed cursor"):
        ing.metadata.list_runs(entity, project, cursor="!!!")
    _, cursor = ing.metadata.list_runs(entity, project, order="-summary.loss", limit=2)
    with pytest.raises(QueryError, match="does not belong to this order"):
        ing.metadata.list_runs(entity, project, order="-created_at", cursor=cursor)
