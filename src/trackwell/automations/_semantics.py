"""What an automation's filters mean, as pure functions over plain JSON: the server's evaluator
runs these, and the client's tests and docs can too. No pydantic, no server imports.

A metric filter sees the run's trailing values of one metric, oldest first, newest last: it is
evaluated once per newly logged value, on the values up to and including it.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Callable, Sequence
from typing import Any

try:  # linear-time regexes where the server extra is installed (filters come from users)
    import re2 as _re
except ImportError:  # pragma: no cover - client-only installs
    import re as _re  # type: ignore[no-redef]

CMP: dict[str, Callable[[float, float], bool]] = {
    "$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le,
    "$eq": operator.eq, "$ne": operator.ne,
}
CMP_SYMBOLS = {">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte", "==": "$eq", "!=": "$ne"}
AGGS = ("MIN", "MAX", "AVERAGE", "SUM")


def aggregate(values: Sequence[float], agg: str | None) -> float:
    if agg is None:
        return values[-1]
    if agg == "MIN":
        return min(values)
    if agg == "MAX":
        return max(values)
    if agg == "SUM":
        return math.fsum(values)
    return math.fsum(values) / len(values)  # AVERAGE


def needed(metric: dict[str, Any]) -> int:
    """How many trailing values the filter reads (the evaluator keeps that many per run)."""
    kind, spec = _only(metric)
    if kind == "threshold":
        return int(spec["window"]) if spec.get("agg") else 1
    if kind == "change":
        return int(spec["window"]) + int(spec["prior_window"])
    return int(spec["window"]) + 1  # zscore: the window before the newest value, and it


def metric_fires(metric: dict[str, Any], values: Sequence[float]) -> float | None:
    """The value that matched (the aggregate, the change, the z-score), or None: no match. Too
    few values to fill the window(s) is no match."""
    kind, spec = _only(metric)
    if len(values) < needed(metric):
        return None
    return {"threshold": _threshold, "change": _change, "zscore": _zscore}[kind](spec, values)


def _only(metric: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (kind, spec), = metric.items()
    return kind, spec


def _threshold(spec: dict[str, Any], values: Sequence[float]) -> float | None:
    window = int(spec["window"]) if spec.get("agg") else 1
    value = aggregate(values[-window:], spec.get("agg"))
    return value if CMP[spec["cmp"]](value, float(spec["threshold"])) else None


def _change(spec: dict[str, Any], values: Sequence[float]) -> float | None:
    """The current window (the last ``window`` values) against the ``prior_window`` values before
    it, each reduced by ``agg`` (None: the mean, which is the value itself for a window of 1)."""
    window, prior = int(spec["window"]), int(spec["prior_window"])
    agg = spec.get("agg") or "AVERAGE"
    current = aggregate(values[-window:], agg)
    before = aggregate(values[-window - prior:-window], agg)
    change = current - before
    if spec["change_type"] == "RELATIVE":
        if before == 0:
            return None
        change = change / abs(before)
    return _beyond(change, float(spec["threshold"]), spec["change_dir"])


def _reaches(x: float, t: float) -> bool:
    """``x >= t``, counting float noise as reaching: 0.8 is 20 % below 1.0 though (0.8 - 1) / 1 is -0.19999..."""
    return x >= t or math.isclose(x, t, rel_tol=1e-9, abs_tol=1e-12)


def _beyond(x: float, t: float, direction: str) -> float | None:
    """``x`` when it is at least ``t`` past zero in ``direction`` (INCREASE, DECREASE, ANY)."""
    if direction == "INCREASE":
        return x if _reaches(x, t) else None
    if direction == "DECREASE":
        return x if _reaches(-x, t) else None
    return x if _reaches(abs(x), t) else None


def _zscore(spec: dict[str, Any], values: Sequence[float]) -> float | None:
    """The newest value's z-score against the ``window`` values before it."""
    window = values[-int(spec["window"]) - 1:-1]
    if len(window) < 2:
        return None
    spread = statistics.pstdev(window)
    if spread == 0:
        return None
    z = (values[-1] - statistics.fmean(window)) / spread
    return _beyond(z, float(spec["threshold"]), spec["change_dir"])


# -- Mongo-like filters over a document (a run, an artifact event) ---------------------------

def _lookup(doc: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _compare(op: str, value: Any, arg: Any) -> bool:
    if op in ("$eq", "$ne"):
        return (value == arg) is (op == "$eq")
    if op in ("$gt", "$gte", "$lt", "$lte"):
        try:
            return bool(CMP[op](value, arg))
        except TypeError:
            return False
    if op == "$in":
        return value in list(arg)
    if op == "$nin":
        return value not in list(arg)
    if op == "$regex":
        return isinstance(value, str) and _re.search(str(arg), value) is not None
    if op == "$contains":
        return isinstance(value, str) and str(arg) in value
    raise ValueError(f"unknown filter operator {op!r}")


def _field_matches(doc: dict[str, Any], path: str, cond: Any) -> bool:
    found, value = _lookup(doc, path)
    ops = cond if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond) else {"$eq": cond}
    for op, arg in ops.items():
        if op == "$exists":
            if bool(arg) != found:
                return False
            continue
        if op == "$all":
            if not (isinstance(value, list) and all(a in value for a in arg)):
                return False
            continue
        if op == "$not":
            if _field_matches(doc, path, arg):
                return False
            continue
        if not found:
            if op not in ("$ne", "$nin"):
                return False
            continue
        # Mongo's array rule: a list field matches when one of its elements does (tags, aliases)
        candidates = value if isinstance(value, list) and op not in ("$ne", "$nin") else [value]
        if op in ("$ne", "$nin") and isinstance(value, list):
            if any(not _compare(op, v, arg) for v in value):
                return False
            continue
        if not any(_compare(op, v, arg) for v in candidates):
            return False
    return True


def matches(doc: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    """Whether ``doc`` satisfies the Mongo-like filter (``None`` or ``{}``: everything)."""
    if not flt:
        return True
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
        elif key == "$or":
            if cond and not any(matches(doc, f) for f in cond):
                return False
        elif key == "$nor":
            if any(matches(doc, f) for f in cond):
                return False
        elif not _field_matches(doc, key, cond):
            return False
    return True


_FIELD_OPS = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$contains", "$exists", "$all",
              "$not"}
MAX_FILTER_DEPTH = 32


def check_filter(flt: Any, depth: int = 0) -> None:
    """Raise ValueError naming what a Mongo-like filter gets wrong (an unknown operator, a regex
    that does not compile, nesting past ``MAX_FILTER_DEPTH``, a list operator without a list), so
    a saved automation can always be evaluated."""
    if depth > MAX_FILTER_DEPTH:
        raise ValueError(f"filter nested deeper than {MAX_FILTER_DEPTH} levels")
    if flt is None:
        return
    if not isinstance(flt, dict):
        raise ValueError(f"a filter is an object of fields and operators, not {type(flt).__name__}")
    for key, cond in flt.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(cond, list):
                raise ValueError(f"{key} takes a list of filters")
            for each in cond:
                check_filter(each, depth + 1)
        elif key.startswith("$"):
            raise ValueError(f"unknown filter operator {key!r}; use $and, $or, $nor or a field name")
        elif isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            for op, arg in cond.items():
                if op not in _FIELD_OPS:
                    raise ValueError(f"unknown operator {op!r} on {key!r}; one of {', '.join(sorted(_FIELD_OPS))}")
                if op in ("$in", "$nin", "$all") and not isinstance(arg, list):
                    raise ValueError(f"{op} on {key!r} takes a list")
                if op == "$not":
                    check_filter({key: arg}, depth + 1)
                if op == "$regex":
                    try:
                        _re.compile(str(arg))
                    except Exception as exc:  # re2.error / re.error
                        raise ValueError(f"$regex {str(arg)[:100]!r} on {key!r} does not compile: {exc}") from None


def run_document(run: dict[str, Any]) -> dict[str, Any]:
    """The fields run filters name (W&B's ``display_name`` is the run's name; ``user`` who made it)."""
    return {"name": run.get("name"), "display_name": run.get("name"), "id": run.get("id"),
            "tags": list(run.get("tags") or []), "group": run.get("group"), "job_type": run.get("job_type"),
            "config": run.get("config") or {}, "user": run.get("created_by"), "username": run.get("created_by"),
            "state": run.get("state")}


# -- payload templates -------------------------------------------------------------------------

def render(template: Any, variables: dict[str, Any]) -> Any:
    """``${name}`` replaced in every string of a JSON template. A string that is exactly one
    variable becomes the variable's value (a number stays a number); unknown names stay as written."""
    if isinstance(template, dict):
        return {render(k, variables): render(v, variables) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, variables) for v in template]
    if not isinstance(template, str) or "${" not in template:
        return template
    whole = _VAR.fullmatch(template)
    if whole is not None and whole.group(1) in variables:
        return variables[whole.group(1)]
    return _VAR.sub(lambda m: _text(variables[m.group(1)]) if m.group(1) in variables else m.group(0), template)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_VAR = _re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


# -- the same, over a run's whole stream of values at once (what the server runs) ---------------

def _windows(arr: Any, window: int, agg: str, lo: int, hi: int) -> Any:
    """``aggregate(values[i - window + 1:i + 1], agg)`` for i in [lo, hi), vectorized."""
    import numpy as np

    if agg in ("SUM", "AVERAGE"):
        prefix = np.concatenate(([0.0], np.cumsum(arr)))
        total = prefix[lo + 1:hi + 1] - prefix[lo + 1 - window:hi + 1 - window]
        return total if agg == "SUM" else total / window
    views = np.lib.stride_tricks.sliding_window_view(arr, window)[lo - window + 1:hi - window + 1]
    return views.min(axis=1) if agg == "MIN" else views.max(axis=1)


def _reaching(x: Any, t: float) -> Any:
    import numpy as np

    return (x >= t) | np.isclose(x, t, rtol=1e-9, atol=1e-12)


def first_fire(metric: dict[str, Any], values: Sequence[float], start: int = 0) -> tuple[int, float] | None:
    """The first i >= ``start`` at which ``metric_fires(metric, values[:i + 1])`` matches, and what
    it matched; None: no value from ``start`` on fires."""
    found = fires(metric, values, start, limit=1)
    return found[0] if found else None


def fires(metric: dict[str, Any], values: Sequence[float], start: int = 0,
          limit: int | None = None) -> list[tuple[int, float]]:
    """Every i >= ``start`` (the first ``limit``) at which ``metric_fires(metric, values[:i + 1])``
    matches, with what it matched. Vectorized with numpy (the server's extra): a page of 10,000
    values costs a few array passes, not 10,000 window evaluations."""
    import numpy as np

    kind, spec = _only(metric)
    begin, n = max(start, needed(metric) - 1), len(values)
    if begin >= n:
        return []
    if kind == "zscore":  # windows are short (30 by default): exact statistics per value
        window, out = int(spec["window"]), []
        for i in range(begin, n):
            found = _zscore(spec, values[max(0, i - window):i + 1])
            if found is not None:
                out.append((i, found))
                if limit is not None and len(out) >= limit:
                    break
        return out
    arr = np.asarray(values, dtype=np.float64)
    if kind == "threshold":
        agg = spec.get("agg")
        got: Any = arr[begin:] if not agg else _windows(arr, int(spec["window"]), agg, begin, n)
        with np.errstate(invalid="ignore"):
            mask = CMP[spec["cmp"]](got, float(spec["threshold"]))
    else:
        window, agg = int(spec["window"]), spec.get("agg") or "AVERAGE"
        current = _windows(arr, window, agg, begin, n)
        before = _windows(arr, int(spec["prior_window"]), agg, begin - window, n - window)
        got = current - before
        with np.errstate(invalid="ignore", divide="ignore"):
            if spec["change_type"] == "RELATIVE":
                got = np.where(before == 0, np.nan, got / np.abs(before))
            t, direction = float(spec["threshold"]), spec["change_dir"]
            mask = _reaching(got, t) if direction == "INCREASE" else _reaching(-got, t) \
                if direction == "DECREASE" else _reaching(np.abs(got), t)
    hits = np.flatnonzero(mask)[:limit]
    return [(begin + int(h), float(got[h])) for h in hits]
