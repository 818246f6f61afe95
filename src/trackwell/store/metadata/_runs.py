"""Runs: identity, fields, listing (filters, order, cursor), fork lineage, and the per-metric
summaries rebuilt when a rewind or a fork changes the history a run reads."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.schema.summary import KeyStats, history_summary, summary_mode
from trackwell.store.metadata import _query, _summaries, _tombstones
from trackwell.store.metadata._accounts import ensure_project
from trackwell.store.metadata._apply import add_event, insert_for
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._lifecycle import for_update
from trackwell.store.metadata._names import display_name
from trackwell.store.metadata._query_checks import explain_failure
from trackwell.store.metadata._tables import runs
from trackwell.store.metrics import HistoryStats, Segment

MAX_LIMIT = 1000
_RUN_FIELDS = ("name", "group", "job_type", "tags", "notes", "config")


def run_to_api(row: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """A ``runs`` row and its summary (``_summaries``) as the API shows a run."""
    return {
        "entity": row.entity, "project": row.project, "id": row.run_id, "name": row.name,
        "group": row.group, "job_type": row.job_type, "tags": row.tags, "notes": row.notes,
        "state": row.state, "exit_code": row.exit_code, "config": row.config, "summary": summary,
        "created_at": row.created_at, "updated_at": row.updated_at, "heartbeat_at": row.heartbeat_at,
        "runtime": row.runtime, "host": row.host, "program": row.program, "python": row.python,
        "forked_from": None if row.fork_parent is None else {"id": row.fork_parent, "step": row.fork_step},
        "created_by": row.created_by, "metric_definitions": metric_definitions(row.metric_modes),
    }


def metric_definitions(modes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``define_metric``'s definitions by name or glob (``summary``, ``step_metric``, ...): what
    ``runs.metric_modes`` holds, where older runs kept only the summary mode as a string."""
    return {name: {"summary": d} if isinstance(d, str) else dict(d) for name, d in (modes or {}).items()}


class SqlRunStore(Database):
    """``RunStore`` on the metadata database."""

    def run_pk(self, entity: str, project: str, run_id: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs.c.pk).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).scalar()

    def get_run(self, entity: str, project: str, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).first()
            return None if row is None else run_to_api(row, _summaries.summaries_of(conn, [row.pk])[row.pk])

    def run_by_pk(self, run_pk: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.pk == run_pk)).one()
            return run_to_api(row, _summaries.summaries_of(conn, [run_pk])[run_pk])

    def refuse_deleted(self, entity: str, project: str, run_id: str) -> None:
        """``RunDeleted`` if the run was deleted (its id is not used again)."""
        with self.engine.connect() as conn:
            _tombstones.refuse_deleted(conn, entity, project, run_id)

    def ensure_run(self, entity: str, project: str, run_id: str, **fields: Any) -> int:
        """The run's pk, creating the run (and its run_created event) when it does not exist."""
        pk = self.run_pk(entity, project, run_id)
        if pk is not None:
            return pk
        with self.write() as conn:
            return self._create(conn, entity, project, run_id, fields)

    def _create(self, conn: sa.Connection, entity: str, project: str, run_id: str, fields: dict[str, Any]) -> int:
        _tombstones.refuse_deleted(conn, entity, project, run_id)
        now = time.time()
        if not fields.get("name"):
            count = conn.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.entity == entity, runs.c.project == project)).scalar_one()
            fields = {**fields, "name": display_name(count + 1)}
        values = {"entity": entity, "project": project, "run_id": run_id, "tags": [], "config": {},
                  "metric_modes": {}, "console_count": 0, "state": "running",
                  "created_at": now, "updated_at": now, **fields}
        explicit_pk = _tombstones.next_pk(conn)
        if explicit_pk is not None:
            values["pk"] = explicit_pk
        stmt = insert_for(conn, runs).values(values).on_conflict_do_nothing(
            index_elements=[runs.c.entity, runs.c.project, runs.c.run_id]).returning(runs.c.pk)
        pk = conn.execute(stmt).scalar()
        if pk is None:  # created concurrently by another server process
            return int(conn.execute(sa.select(runs.c.pk).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).scalar_one())
        add_event(conn, "run_created", pk, {"entity": entity, "project": project, "run_id": run_id}, now,
                  values.get("created_by"))
        ensure_project(conn, entity, project, values.get("created_by"), now)
        return int(pk)

    def upsert_run(self, entity: str, project: str, run_id: str, fields: dict[str, Any],
                   actor: str | None = None) -> dict[str, Any]:
        """Create the run (by ``actor``) or update the given fields (``config`` is merged, others replaced)."""
        unknown = set(fields) - set(_RUN_FIELDS)
        if unknown:
            raise ValueError(f"unknown run field(s) {sorted(unknown)}; settable fields are {list(_RUN_FIELDS)}")
        with self.write() as conn:
            row = conn.execute(sa.select(runs.c.pk, runs.c.config).where(
                runs.c.entity == entity, runs.c.project == project, runs.c.run_id == run_id)).first()
            if row is None:
                self._create(conn, entity, project, run_id, {**fields, "created_by": actor})
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
        """One page of runs and the cursor of the next page (None on the last page); a query that
        cannot be answered as asked is a ``QueryError`` naming the problem."""
        if not 1 <= limit <= MAX_LIMIT:
            raise _query.QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        sources = _query.Sources()
        components = _query.order_components(order or "-created_at", self.dialect, sources)
        where = [runs.c.entity == entity, runs.c.project == project]
        if filters:
            where.append(_query.compile_filters(filters, self.dialect, sources))
        if cursor:
            where.append(_query.keyset_after(components, _query.decode_cursor(cursor)))
        keys = [expr.label(f"_o{i}") for i, (expr, _) in enumerate(components)]
        stmt = (sa.select(runs, *keys).select_from(sources.from_clause()).where(*where)
                .order_by(*(expr.desc() if desc else expr.asc() for expr, desc in components))
                .limit(limit + 1))
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
                summaries = _summaries.summaries_of(conn, [r.pk for r in rows[:limit]])
        except sa.exc.DBAPIError as exc:  # a $regex over the time budget, or one PostgreSQL refuses
            problem = explain_failure(exc, filters)
            if problem is None:
                raise
            raise problem from exc
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]._mapping
            next_cursor = _query.encode_cursor([last[f"_o{i}"] for i in range(len(components))])
        return [run_to_api(r, summaries[r.pk]) for r in rows], next_cursor

    def lineage(self, entity: str, project: str, run_id: str) -> tuple[int, list[Segment]] | None:
        """The run's pk and the segments its history is read from: itself, then for a fork each
        ancestor up to the lowest branch step on the way (None if the run does not exist)."""
        r = runs.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(r.pk, r.fork_parent, r.fork_step, r.lineage).where(
                r.entity == entity, r.project == project, r.run_id == run_id)).first()
            if row is None:
                return None
            segments: list[Segment] = [(row.pk, None)]
            if row.lineage is not None:  # kept on the row at fork time
                return row.pk, segments + [(int(pk), None if c is None else int(c)) for pk, c in row.lineage]
            # a fork made before runs.lineage existed: walk its chain
            ceiling: int | None = None
            seen = {row.pk}
            while row.fork_parent is not None:
                ceiling = row.fork_step if ceiling is None else min(ceiling, row.fork_step)
                row = conn.execute(sa.select(r.pk, r.fork_parent, r.fork_step, r.lineage).where(
                    r.entity == entity, r.project == project, r.run_id == row.fork_parent)).first()
                if row is None or row.pk in seen:  # a deleted ancestor: read what remains
                    break
                seen.add(row.pk)
                segments.append((row.pk, ceiling))
        return segments[0][0], segments

    def forks_after(self, entity: str, project: str, run_id: str, step: int) -> list[tuple[str, int]]:
        """Forks of the run that branch after ``step``: (run id, branch step)."""
        r = runs.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(r.run_id, r.fork_step).where(
                r.entity == entity, r.project == project, r.fork_parent == run_id, r.fork_step > step))
            return [(row.run_id, int(row.fork_step)) for row in rows]

    def create_fork(self, entity: str, project: str, run_id: str, parent: dict[str, Any], step: int,
                    ancestors: Sequence[Segment], stats: HistoryStats, fields: dict[str, Any],
                    actor: str | None = None) -> bool:
        """Create ``run_id`` as a fork of ``parent`` at ``step`` reading ``ancestors`` (the parent's
        segments capped at ``step``), its summaries built from them; False if the id is taken."""
        config = {**parent["config"], **fields.pop("config", {})}
        with self.write() as conn:
            if conn.execute(sa.select(runs.c.pk).where(runs.c.entity == entity, runs.c.project == project,
                                                       runs.c.run_id == run_id)).first() is not None:
                return False
            pk = self._create(conn, entity, project, run_id, {
                **fields, "config": config, "fork_parent": parent["id"], "fork_step": step,
                "lineage": [[pk, ceiling] for pk, ceiling in ancestors], "created_by": actor})
            self._rebuild_summaries(conn, pk, stats, time.time())
            add_event(conn, "run_forked", pk, {"parent": parent["id"], "step": step}, time.time(), actor)
        return True

    def rewound(self, run_pk: int, step: int, hidden: int, stats: HistoryStats, actor: str | None = None) -> None:
        """After the metric store hid the history past ``step``: summaries from what is left."""
        now = time.time()
        with self.write() as conn:
            self._rebuild_summaries(conn, run_pk, stats, now)
            add_event(conn, "run_rewound", run_pk, {"step": step, "hidden_points": hidden}, now, actor)

    def _rebuild_summaries(self, conn: sa.Connection, run_pk: int, stats: HistoryStats, now: float) -> None:
        modes = conn.execute(for_update(sa.select(runs.c.metric_modes).where(runs.c.pk == run_pk), conn)).scalar_one()
        pins = _summaries.pinned_values(conn, run_pk)  # the user's values stay
        merged = {key: KeyStats(*values) for key, values in stats.numeric.items()}
        rows: dict[str, tuple[Any, bool, KeyStats | None]] = {}
        for key in dict.fromkeys([*merged, *stats.others]):
            found, value = history_summary(merged.get(key), stats.others.get(key), summary_mode(modes, key))
            rows[key] = (value if found else _summaries.ABSENT, False, merged.get(key))
        rows.update((key, (value, True, merged.get(key))) for key, value in pins.items())
        _summaries.replace(conn, run_pk, rows)
        runtime = merged["_runtime"].last if "_runtime" in merged else 0.0
        conn.execute(runs.update().where(runs.c.pk == run_pk).values(runtime=runtime, updated_at=now))

    def metric_summaries(self, run_pk: int) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return _summaries.key_statistics(conn, run_pk)


def filters_from_json(text: str | None) -> Any:
    """Parse the ``filters`` query parameter."""
    if not text:
        return None
    try:
        return json.loads(text)
    except RecursionError:
        raise _query.QueryError("filters are nested too deeply to parse; simplify them") from None
    except ValueError as exc:
        raise _query.QueryError(f"filters is not valid JSON ({exc}); pass a JSON object such as "
                                '{"state": "finished"}') from exc
