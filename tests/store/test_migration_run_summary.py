"""Revision 0006 moves runs' summaries to ``run_summary``: a database with runs upgrades to the same
summaries, pins and per-key statistics, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects.postgresql import JSONB

from trackwell.schema import Batch, History, SummaryUpdate
from trackwell.store.metadata import MetadataStore
from trackwell.store.metadata._engine import _MIGRATIONS, create_engine
from trackwell.store.metadata._tables import ExactFloat


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet (PostgreSQL: a scratch database of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = os.environ.get("TRACKWELL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TRACKWELL_TEST_POSTGRES_URL is not set")
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    name = f"trackwell_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(engine: sa.Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_upgrade_keeps_summaries_pins_and_statistics(empty_db: str) -> None:
    engine = create_engine(empty_db)
    _migrate(engine, "0005")
    now = time.time()
    old_summary = {"loss": 0.25, "acc": math.nan, "note": "hello", "gone_to_null": None, "_step": 9}
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    runs = sa.table("runs", *(sa.column(c, json) for c in ("tags", "config", "summary", "pinned", "metric_modes")),
                    *(sa.column(c) for c in ("entity", "project", "run_id", "console_count", "state", "created_at",
                                             "updated_at")), sa.column("pk"))
    stats = sa.table("metric_summaries", *(sa.column(c) for c in ("run_pk", "key", "last_step", "count")),
                     *(sa.column(c, ExactFloat) for c in ("last", "min", "max", "sum")))
    with engine.begin() as conn:
        pk = conn.execute(runs.insert().values(
            entity="e", project="p", run_id="r1", tags=[], config={}, summary=old_summary, pinned=["note", "deleted"],
            metric_modes={}, console_count=0, state="running", created_at=now, updated_at=now,
        ).returning(runs.c.pk)).scalar_one()
        conn.execute(stats.insert(), [
            {"run_pk": pk, "key": "loss", "last": 0.25, "last_step": 9, "min": 0.25, "max": 1.0, "count": 10, "sum": 5.0},
            {"run_pk": pk, "key": "acc", "last": math.nan, "last_step": 9, "min": None, "max": None, "count": 10,
             "sum": math.nan}])
    engine.dispose()

    store = MetadataStore(empty_db)  # opening migrates to the newest revision
    try:
        run = store.get_run("e", "p", "r1")
        assert run is not None
        summary = run["summary"]
        assert math.isnan(summary.pop("acc")) and summary == {k: v for k, v in old_summary.items() if k != "acc"}
        stats = store.metric_summaries(pk)
        assert set(stats) == {"loss", "acc"} and stats["loss"]["count"] == 10 and stats["loss"]["mean"] == 0.5
        assert math.isnan(stats["acc"]["last"]) and stats["acc"]["min"] is None

        # the pins came along: history does not change "note" nor bring "deleted" back
        records = [History(seq=1, ts=now, step=10, runtime=1.0, data={"note": 1.0, "deleted": 2.0, "loss": 0.5}),
                   SummaryUpdate(seq=2, ts=now, update={"acc": 1})]
        from trackwell.server.points import batch_stats, build_points

        stats_batch, others = batch_stats(build_points(records))
        store.apply_entry(pk, "w", _entry(store, pk, Batch(writer="w", records=records)), records, stats_batch, others, 0)
        after = store.get_run("e", "p", "r1")
        assert after is not None
        assert after["summary"] == {"loss": 0.5, "acc": 1, "note": "hello", "gone_to_null": None, "_step": 10}
        assert store.metric_summaries(pk)["loss"]["count"] == 11
    finally:
        store.close()


def _entry(store: MetadataStore, pk: int, batch: Batch) -> int:
    """An ingest log entry for ``batch`` (``apply_entry`` deletes it), and its writer's row."""
    from trackwell.schema import encode
    from trackwell.store.metadata._log import WriterRow

    with store.accepting(pk) as accepting:
        accepting.add_writer(WriterRow(writer=batch.writer))
        accepting.append(batch.writer, 1, batch.records[-1].seq, encode(batch), time.time())
    return store.log_entries(pk)[0].id
