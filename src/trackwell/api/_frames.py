"""History rows as a pandas DataFrame (pandas is imported only here, on first use)."""

from __future__ import annotations

from typing import Any

PANDAS_HINT = "pip install 'trackwell[pandas]'"


def frame(rows: list[dict[str, Any]], pandas: bool) -> Any:
    """A DataFrame of ``rows`` (one column per key, ``_step`` first) when ``pandas``; else the
    rows. Without pandas installed, an ImportError that says how to get it."""
    if not pandas:
        return rows
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(f"history(pandas=True) returns a pandas DataFrame, and pandas is not installed: "
                          f"{PANDAS_HINT} (or pass pandas=False for a list of dicts)") from exc
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if "_step" in columns:
        columns.remove("_step")
        columns.insert(0, "_step")
    return pd.DataFrame.from_records(rows, columns=columns)
