"""Reading the DuckDB metric store: keys, last step, statistics, downsampled buckets, sampled and
paged rows. Every read is one statement (or a few) on its own cursor over the ``points_all`` view,
so it sees one snapshot and never waits for ingest or compaction."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import duckdb
import numpy as np

from trackwell.store.metrics._base import Bucket, Downsampled, HistoryStats, RunRef, segments

_MAX_OR_SEGMENTS = 4
_STEP_MAX = 2**63 - 1


def _run_sql(run: RunRef, params: dict[str, Any], alias: str = "") -> str:
    """``run_pk = $r0`` for a plain run; for a fork, each segment up to its step ceiling. A long
    fork chain joins against its segments instead of OR-ing one condition each: DuckDB plans a
    400-term OR in ~250 ms, the join in a few."""
    segs = segments(run)
    if len(segs) > _MAX_OR_SEGMENTS:
        params["seg_pks"] = [pk for pk, _ in segs]
        params["seg_ceilings"] = [_STEP_MAX if c is None else c for _, c in segs]
        return (f"({alias}step <= (SELECT s.c FROM (SELECT unnest($seg_pks) AS pk, unnest($seg_ceilings) AS c) s "
                f"WHERE s.pk = {alias}run_pk))")
    parts = []
    for i, (pk, ceiling) in enumerate(segs):
        params[f"r{i}"] = pk
        if ceiling is None:
            parts.append(f"{alias}run_pk = $r{i}")
        else:
            params[f"c{i}"] = ceiling
            parts.append(f"({alias}run_pk = $r{i} AND {alias}step <= $c{i})")
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


class DuckDBReads:
    """The read half of ``DuckDBMetricStore`` (which provides the cursor and the key dictionaries)."""

    _ids: dict[str, int]
    _names: dict[int, str]

    def _reader(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise NotImplementedError


    def keys(self, run: RunRef) -> list[str]:
        params: dict[str, Any] = {}
        where = _run_sql(run, params)
        with self._reader() as con:
            ids = con.execute(f"SELECT DISTINCT key_id FROM points_all WHERE {where} UNION "
                              f"SELECT DISTINCT key_id FROM other_values WHERE {where}", params).fetchall()
        return sorted(self._names[i] for (i,) in ids)

    def last_step(self, run: RunRef) -> int | None:
        params: dict[str, Any] = {}
        where = _run_sql(run, params)
        with self._reader() as con:
            row = con.execute(f"SELECT max(step) FROM (SELECT max(step) AS step FROM points_all WHERE {where} "
                              f"UNION ALL SELECT max(step) FROM other_values WHERE {where})", params).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def stats(self, run: RunRef) -> HistoryStats:
        params: dict[str, Any] = {}
        where = _run_sql(run, params)
        with self._reader() as con:
            numeric = con.execute(
                f"SELECT key_id, count(*), sum(value), min(value) FILTER (WHERE NOT isnan(value)), "
                f"max(value) FILTER (WHERE NOT isnan(value)), arg_max(value, step), max(step) "
                f"FROM points_all WHERE {where} GROUP BY key_id", params).fetchall()
            others = con.execute(f"SELECT key_id, max(step), arg_max(value, step) FROM other_values "
                                 f"WHERE {where} GROUP BY key_id", params).fetchall()
        names = self._names
        return HistoryStats(
            {names[k]: (int(n), float(total), lo, hi, float(last), int(step))
             for k, n, total, lo, hi, last, step in numeric},
            {names[k]: (int(step), json.loads(value)) for k, step, value in others})

    def downsample(self, run: RunRef, key: str, buckets: int, min_step: int | None = None,
                   max_step: int | None = None) -> Downsampled:
        key_id = self._ids.get(key)
        empty: Downsampled = {"key": key, "count": 0, "first": None, "last": None, "buckets": []}
        if key_id is None:
            return empty
        lo = -(2**63) if min_step is None else min_step
        hi = 2**63 - 1 if max_step is None else max_step
        params: dict[str, Any] = {"key": key_id, "lo": lo, "hi": hi}
        where = f"{_run_sql(run, params)} AND key_id = $key AND step BETWEEN $lo AND $hi"
        with self._reader() as con:
            first_step, last_step, count, first, last = con.execute(
                f"SELECT min(step), max(step), count(*), arg_min(value, step), arg_max(value, step) "
                f"FROM points_all WHERE {where}", params).fetchone()  # type: ignore[misc]
            if not count:
                return empty
            # Equal step ranges; NaN is left out of min/max so one NaN does not blank a bucket.
            cols = con.execute(
                f"SELECT min(step) AS start_step, max(step) AS end_step, "
                f"min(value) FILTER (WHERE NOT isnan(value)) AS min, "
                f"max(value) FILTER (WHERE NOT isnan(value)) AS max, "
                f"arg_max(value, step) AS last, max(step) AS last_step, count(*) AS count "
                f"FROM points_all WHERE {where} "
                f"GROUP BY floor((step - $s0)::DOUBLE * $n / ($s1 - $s0 + 1)) ORDER BY start_step",
                {**params, "s0": first_step, "s1": last_step, "n": buckets}).fetchnumpy()
        names = list(cols)
        lists = [_nullable(cols[n]) for n in names]
        return {"key": key, "count": int(count),
                "first": {"step": int(first_step), "value": float(first)},
                "last": {"step": int(last_step), "value": float(last)},
                "buckets": [Bucket(**dict(zip(names, row, strict=True)))  # type: ignore[typeddict-item]
                            for row in zip(*lists, strict=True)]}

    def tail(self, run_pk: int, after: dict[str, int | None], n: int) -> dict[str, tuple[list[int], list[float]]]:
        out: dict[str, tuple[list[int], list[float]]] = {key: ([], []) for key in after}
        wanted = {self._ids[k]: (k, -(2**63) if s is None else s + 1) for k, s in after.items() if k in self._ids}
        if not wanted or n <= 0:
            return out
        lo = min(first for _, first in wanted.values())
        with self._reader() as con:
            rows = con.execute(
                "SELECT key_id, step, value FROM points_all WHERE run_pk = $r AND list_contains($ids, key_id) "
                "AND step >= $lo QUALIFY row_number() OVER (PARTITION BY key_id ORDER BY step DESC) <= $n "
                "ORDER BY key_id, step", {"r": run_pk, "ids": list(wanted), "lo": lo, "n": n}).fetchnumpy()
        for key_id, step, value in zip(rows["key_id"].tolist(), rows["step"].tolist(), rows["value"].tolist(),
                                       strict=True):
            key, first = wanted[key_id]
            if step >= first:
                out[key][0].append(step)
                out[key][1].append(value)
        return out

    def _key_filter(self, keys: list[str] | None) -> tuple[str, list[int]] | None:
        """SQL condition for the selected keys; None when none of them exists."""
        if keys is None:
            return "", []
        ids = [self._ids[k] for k in keys if k in self._ids]
        if not ids:
            return None
        return " AND list_contains($ids, key_id)", ids

    def _distinct_steps(self, con: duckdb.DuckDBPyConnection, run: RunRef, key_sql: str, ids: list[int],
                        min_step: int, limit: int | None) -> np.ndarray:
        params: dict[str, Any] = {"lo": min_step}
        if ids:
            params["ids"] = ids
        where = _run_sql(run, params)
        sql = (f"SELECT step FROM points_all WHERE {where} AND step >= $lo{key_sql} UNION "
               f"SELECT step FROM other_values WHERE {where} AND step >= $lo{key_sql} ORDER BY step")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return con.execute(sql, params).fetchnumpy()["step"]

    def _rows(self, con: duckdb.DuckDBPyConnection, run: RunRef, key_sql: str, ids: list[int],
              steps: np.ndarray) -> list[dict[str, Any]]:
        """Rows at exactly ``steps`` (sorted), pivoted from the narrow tables."""
        if not len(steps):
            return []
        params: dict[str, Any] = {"lo": int(steps[0]), "hi": int(steps[-1])}
        if ids:
            params["ids"] = ids
        con.register("_wanted", {"step": np.asarray(steps, dtype=np.int64)})
        try:
            nums = con.execute(
                f"SELECT p.step, p.key_id, p.value FROM points_all p SEMI JOIN _wanted w ON p.step = w.step "
                f"WHERE {_run_sql(run, params, 'p.')} AND p.step BETWEEN $lo AND $hi{key_sql}", params).fetchnumpy()
            others = con.execute(
                f"SELECT o.step, o.key_id, o.value FROM other_values o SEMI JOIN _wanted w ON o.step = w.step "
                f"WHERE {_run_sql(run, params, 'o.')} AND o.step BETWEEN $lo AND $hi{key_sql}", params).fetchall()
        finally:
            con.unregister("_wanted")
        rows: dict[int, dict[str, Any]] = {s: {"_step": s} for s in steps.tolist()}
        names = self._names
        columns = (nums["step"].tolist(), nums["key_id"].tolist(), nums["value"].tolist())
        for step, key_id, value in zip(*columns, strict=True):
            rows[step][names[key_id]] = value
        for step, key_id, value in others:
            rows[step][names[key_id]] = json.loads(value)
        return list(rows.values())

    def rows_at(self, run: RunRef, keys: list[str] | None, steps: list[int]) -> list[dict[str, Any]]:
        key_filter = self._key_filter(keys)
        if key_filter is None or not steps:
            return []
        key_sql, ids = key_filter
        with self._reader() as con:
            return self._rows(con, run, key_sql, ids, np.unique(np.asarray(steps, dtype=np.int64)))

    def values_asof(self, run: RunRef, key: str, steps: list[int]) -> list[float | None]:
        key_id = self._ids.get(key)
        if key_id is None or not steps:
            return [None] * len(steps)
        params: dict[str, Any] = {"key": key_id}
        where = f"{_run_sql(run, params)} AND key_id = $key"
        with self._reader() as con:
            con.register("_wanted", {"i": np.arange(len(steps), dtype=np.int64),
                                     "step": np.asarray(steps, dtype=np.int64)})
            try:
                found = con.execute(
                    f"SELECT w.i, p.value FROM _wanted w ASOF LEFT JOIN "
                    f"(SELECT step, value FROM points_all WHERE {where}) p ON w.step >= p.step ORDER BY w.i",
                    params).fetchnumpy()
            finally:
                con.unregister("_wanted")
        return _nullable(found["value"])

    def sample(self, run: RunRef, keys: list[str] | None, samples: int) -> list[dict[str, Any]]:
        key_filter = self._key_filter(keys)
        if key_filter is None:
            return []
        key_sql, ids = key_filter
        with self._reader() as con:
            dense = self._dense_range(con, run, key_sql, ids)
            if dense is not None:
                rows = self._rows(con, run, key_sql, ids, _spread(np.arange(*dense, dtype=np.int64), samples))
                if all(len(row) > 1 for row in rows):
                    return rows
            # Steps with gaps: rank them all (a hash aggregate and a sort over the run's points).
            steps = self._distinct_steps(con, run, key_sql, ids, -(2**63), None)
            return self._rows(con, run, key_sql, ids, _spread(steps, samples))

    def _dense_range(self, con: duckdb.DuckDBPyConnection, run: RunRef, key_sql: str,
                     ids: list[int]) -> tuple[int, int] | None:
        """(first, last + 1) when some key has a point at every step between the run's first and
        last: the common case, where sampling by rank needs no list of distinct steps. Counting per
        key is a cheap aggregate; a duplicate point could fake a full count, so ``sample`` still
        checks each picked step has a row."""
        params: dict[str, Any] = {"ids": ids} if ids else {}
        where = _run_sql(run, params) + key_sql
        row = con.execute(
            f"SELECT min(lo), max(hi), max(n) FROM ("
            f"SELECT min(step) AS lo, max(step) AS hi, count(*) AS n FROM points_all WHERE {where} GROUP BY key_id "
            f"UNION ALL SELECT min(step), max(step), count(*) FROM other_values WHERE {where} GROUP BY key_id)",
            params).fetchall()[0]
        if row[0] is None or row[2] != row[1] - row[0] + 1:
            return None
        return int(row[0]), int(row[1]) + 1

    def scan(self, run: RunRef, keys: list[str] | None, min_step: int | None,
             page_size: int) -> tuple[list[dict[str, Any]], int | None]:
        key_filter = self._key_filter(keys)
        if key_filter is None:
            return [], None
        key_sql, ids = key_filter
        lo = -(2**63) if min_step is None else min_step
        with self._reader() as con:
            steps = self._distinct_steps(con, run, key_sql, ids, lo, page_size + 1)
            next_step = int(steps[page_size]) if len(steps) > page_size else None
            return self._rows(con, run, key_sql, ids, steps[:page_size]), next_step


def _spread(steps: np.ndarray, samples: int) -> np.ndarray:
    """``samples`` of the sorted ``steps`` evenly spread by rank, first and last included."""
    if len(steps) <= samples:
        return steps
    return steps[np.unique(np.linspace(0, len(steps) - 1, samples).round().astype(np.int64))]


def _nullable(column: np.ndarray) -> list[Any]:
    """A fetched column as Python values, with masked (NULL) entries as None."""
    if isinstance(column, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(column).tolist()
        return [None if m else v for v, m in zip(column.data.tolist(), mask, strict=True)]
    return column.tolist()
