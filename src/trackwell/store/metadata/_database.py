"""The metadata database a process opens: its engine (migrated to the newest schema on open)
and its write transactions. Each concern's store (runs, states, the ingest log, console, events)
is a ``Database``; ``MetadataStore`` is all of them over one engine."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._engine import create_engine, upgrade


class Database:
    """SQLite (default) or PostgreSQL (psycopg 3)."""

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
