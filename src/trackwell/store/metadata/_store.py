"""``MetadataStore``: runs, writer marks, metric summaries, console lines and the event outbox."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.schema import AnyRecord
from trackwell.store.metadata import _query
from trackwell.store.metadata._apply import KeyStats, add_event, apply_records, insert_for
from trackwell.store.metadata._engine import create_engine, upgrade
from trackwell.store.metadata._names import display_name
from trackwell.store.metadata._tables import (
    console_lines,
    events,
    metric_summaries,
    run_writers,
    runs,
)

MAX_LIMIT = 1000
_RUN_FIELDS = ("name", "group", "job_type", "tags", "notes", "config")


def run_to_api(row: Any) -> dict[str, Any]:
    return {
        "entity": row.entity, "project": row.project, "id": row.run_id, "name": row.name,
        "group": row.group, "job_type": row.job_type, "tags": row.tags, "notes": row.notes,
        "state": row.state, "exit_code": row.exit_code, "config": row.config, "summary": row.summary,
        "created_at": row.created_at, "updated_at": row.updated_at, "heartbeat_at": row.heartbeat_at,
        "runtime": row.runtime, "host": row.host, "program": row.program, "python": row.python,
    }


class MetadataStore:
    """The relational side of the server, on SQLite (default) or PostgreSQL (psycopg 3).

    Opening it migrates the database to the newest schema.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        upgrade(self.engine)
        # SQLite has one writer at a time; taking turns in-process avoids busy retries and
        # read-then-write upgrade failures. PostgreSQL handles concurrent writers itself.
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext())

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    # -- runs -----------------------------------------------------------------------------

    def run_pk(self, entity: str, project: str, run_id: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs.c.pk).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).scalar()

    def get_run(self, entity: str, project: str, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).first()
        return None if row is None else run_to_api(row)

    def ensure_run(self, entity: str, project: str, run_id: str, **fields: Any) -> int:
        """The run's pk, creating the run (and its run_created event) when it does not exist."""
        pk = self.run_pk(entity, project, run_id)
        if pk is not None:
            return pk
        with self.write() as conn:
            return self._create(conn, entity, project, run_id, fields)

    def _create(self, conn: sa.Connection, entity: str, project: str, run_id: str, fields: dict[str, Any]) -> int:
        now = time.time()
        if not fields.get("name"):
            count = conn.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.entity == entity, runs.c.project == project)).scalar_one()
            fields = {**fields, "name": display_name(count + 1)}
        values = {"entity": entity, "project": project, "run_id": run_id, "tags": [], "config": {},
                  "summary": {}, "pinned": [], "metric_modes": {}, "console_count": 0, "state": "running",
                  "created_at": now, "updated_at": now, **fields}
        stmt = insert_for(conn, runs).values(values).on_conflict_do_nothing(
            index_elements=[runs.c.entity, runs.c.project, runs.c.run_id]).returning(runs.c.pk)
        pk = conn.execute(stmt).scalar()
        if pk is None:  # created concurrently by another server process
            return int(conn.execute(sa.select(runs.c.pk).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).scalar_one())
        add_event(conn, "run_created", pk, {"entity": entity, "project": project, "run_id": run_id}, now)
        return int(pk)

    def upsert_run(self, entity: str, project: str, run_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create the run or update the given fields (``config`` is merged, others replaced)."""
        unknown = set(fields) - set(_RUN_FIELDS)
        if unknown:
            raise ValueError(f"unknown run field(s) {sorted(unknown)}; settable fields are {list(_RUN_FIELDS)}")
        with self.write() as conn:
            row = conn.execute(sa.select(runs.c.pk, runs.c.config).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).first()
            if row is None:
                self._create(conn, entity, project, run_id, fields)
            elif fields:
                values = dict(fields)
                if "config" in values:
                    values["config"] = {**row.config, **values["config"]}
                values["updated_at"] = time.time()
                conn.execute(runs.update().where(runs.c.pk == row.pk).values(values))
        run = self.get_run(entity, project, run_id)
        assert run is not None
        return run

    def list_runs(self, entity: str, project: str, *, filters: Any = None, order: str = "-created_at",
                  limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of runs and the cursor of the next page (None on the last page)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise _query.QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        components = _query.order_components(order or "-created_at", self.dialect)
        where = [runs.c.entity == entity, runs.c.project == project]
        if filters:
            where.append(_query.compile_filters(filters, self.dialect))
        if cursor:
            where.append(_query.keyset_after(components, _query.decode_cursor(cursor)))
        keys = [expr.label(f"_o{i}") for i, (expr, _) in enumerate(components)]
        stmt = (sa.select(runs, *keys).where(*where)
                .order_by(*(expr.desc() if desc else expr.asc() for expr, desc in components))
                .limit(limit + 1))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]._mapping
            next_cursor = _query.encode_cursor([last[f"_o{i}"] for i in range(len(components))])
        return [run_to_api(r) for r in rows], next_cursor

    # -- ingest ---------------------------------------------------------------------------

    def writer_mark(self, run_pk: int, writer: str) -> int:
        with self.engine.connect() as conn:
            mark = conn.execute(sa.select(run_writers.c.applied_seq).where(
                run_writers.c.run_pk == run_pk, run_writers.c.writer == writer)).scalar()
        return int(mark or 0)

    def apply(self, run_pk: int, writer: str, records: Sequence[AnyRecord], stats: dict[str, KeyStats],
              others_last: dict[str, tuple[int, Any]], expected_mark: int) -> bool:
        """Apply records past the writer's mark in one transaction; False if the mark moved."""
        with self.write() as conn:
            query = sa.select(run_writers.c.applied_seq).where(
                run_writers.c.run_pk == run_pk, run_writers.c.writer == writer)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            if int(conn.execute(query).scalar() or 0) != expected_mark:
                return False
            apply_records(conn, run_pk, writer, records, stats, others_last, time.time())
        return True

    # -- reads ----------------------------------------------------------------------------

    def metric_summaries(self, run_pk: int) -> dict[str, dict[str, Any]]:
        ms = metric_summaries.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(metric_summaries).where(ms.run_pk == run_pk).order_by(ms.key)).mappings()
            return {r["key"]: {"last": r["last"], "last_step": r["last_step"], "min": r["min"], "max": r["max"],
                               "count": r["count"], "mean": r["sum"] / r["count"] if r["count"] else None}
                    for r in rows}

    def console(self, run_pk: int, offset: int = 0, limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
        c = console_lines.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(c.line, c.stream, c.text, c.ts).where(
                c.run_pk == run_pk, c.line >= offset).order_by(c.line).limit(limit + 1)).all()
        next_offset = rows[limit].line if len(rows) > limit else None
        return [{"stream": r.stream, "text": r.text, "ts": r.ts} for r in rows[:limit]], next_offset

    def events(self, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Outbox events with id > ``after_id``, oldest first."""
        e = events.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(events).where(e.id > after_id).order_by(e.id).limit(limit)).all()
        return [{"id": r.id, "kind": r.kind, "run_pk": r.run_pk, "payload": r.payload, "created_at": r.created_at}
                for r in rows]


def filters_from_json(text: str | None) -> Any:
    """Parse the ``filters`` query parameter."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _query.QueryError(f"filters is not valid JSON ({exc}); pass a JSON object such as "
                                '{"state": "finished"}') from exc
