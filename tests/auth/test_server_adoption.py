"""Runs written before accounts existed (a database at migration 0004, before 0005 added them)
belong to the first admin once a server with accounts starts on it: each entity they name becomes
a team the admin administers, each project a team project; other users cannot see them. SQLite
and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from server_support import BACKENDS, admin_key, bearer, config_dir, fresh_database
from servers import start_server

from trackwell.store.metadata._engine import _MIGRATIONS

OLD_RUNS = [("vision", "resnet", "r1"), ("vision", "resnet", "r2"), ("vision", "vit", "r3"), ("nlp", "bert", "r4")]


def database_before_accounts(url: str) -> None:
    """Migrate a new database to 0004 and write runs into it the way that schema holds them."""
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    schema = sa.MetaData()
    schema.reflect(engine, only=["runs"])
    assert "created_by" not in schema.tables["runs"].c  # really the schema before accounts
    now = time.time()
    with engine.begin() as conn:
        for entity, project, run_id in OLD_RUNS:
            conn.execute(schema.tables["runs"].insert().values(
                entity=entity, project=project, run_id=run_id, name=f"old-{run_id}", tags=[], state="finished",
                config={"lr": 0.1}, summary={"loss": 0.5}, pinned=[], metric_modes={}, console_count=0,
                created_at=now, updated_at=now))
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_runs_from_before_accounts_become_the_first_admins(backend: str, request: pytest.FixtureRequest,
                                                           tmp_path: Path) -> None:
    with config_dir(tmp_path / "config"), fresh_database(request, backend, tmp_path / "server") as (args, url):
        database_before_accounts(url)
        live = start_server(tmp_path / "server", *args)
        try:
            assert "the runs already here (2 entities) are theirs" in live.log()
            api = f"{live.url}/api/v1"
            admin = bearer(admin_key(live))
            me = httpx.get(f"{api}/auth/whoami", headers=admin).json()
            assert {t["name"]: t["role"] for t in me["teams"]} == {"vision": "admin", "nlp": "admin"}
            for entity, project, run_id in OLD_RUNS:
                run = httpx.get(f"{api}/runs/{entity}/{project}/{run_id}", headers=admin)
                assert run.status_code == 200 and run.json()["config"] == {"lr": 0.1}
            projects = httpx.get(f"{api}/projects/vision", headers=admin).json()["projects"]
            assert {(p["name"], p["visibility"], p["runs"]) for p in projects} == {("resnet", "team", 2),
                                                                                  ("vit", "team", 1)}
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                owners = set(conn.execute(sa.text("SELECT created_by FROM runs")).scalars())
            engine.dispose()
            assert owners == {me["user"]["name"]}
            audit = httpx.get(f"{api}/audit", headers=admin).json()["entries"]
            assert any(e["action"] == "bootstrap.adopt" and sorted(e["detail"]["entities"]) == ["nlp", "vision"]
                       for e in audit), audit

            assert httpx.post(f"{api}/users", json={"name": "eve"}, headers=admin).status_code == 200
            eve = bearer(httpx.post(f"{api}/keys", json={"user": "eve"}, headers=admin).json()["key"])
            assert httpx.get(f"{api}/runs/vision/resnet/r1", headers=eve).status_code == 404
            assert httpx.get(f"{api}/runs/vision/resnet", headers=eve).status_code == 404
            assert httpx.get(f"{api}/projects/vision", headers=eve).json()["projects"] == []
            assert httpx.put(f"{api}/runs/vision/resnet/r9", json={}, headers=eve).status_code == 404
        finally:
            live.stop()
