"""``Table``: W&B's. Columns and rows (or a pandas DataFrame), ``add_data(*row)``; cells are
plain values or Images. Stored as a run file under ``media/tables/`` in W&B's table JSON
(``{"columns": [...], "data": [[...], ...]}``); the history row holds ``{"_type":
"table-file", "path", "sha256", "size", "ncols", "nrows"}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Table:
    _type = "table-file"

    def __init__(self, columns: Sequence[str] | None = None, data: Sequence[Sequence[Any]] | None = None,
                 rows: Sequence[Sequence[Any]] | None = None, dataframe: Any = None) -> None:
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.itertuples(index=False, name=None)
        rows = data if data is not None else rows
        self.data: list[list[Any]] = []
        first = None
        if rows is not None:
            rows = [list(r) for r in rows]
            first = rows[0] if rows else None
        if columns is None:
            columns = [f"col{i}" for i in range(len(first))] if first is not None else ["Input", "Output", "Expected"]
        self.columns = [str(c) for c in columns]
        for row in rows or ():
            self.add_data(*row)

    def add_data(self, *values: Any) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"add_data() got {len(values)} values for {len(self.columns)} columns "
                             f"({', '.join(self.columns)})")
        self.data.append(list(values))

    def get_dataframe(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<Table {len(self.columns)} columns x {len(self.data)} rows>"
