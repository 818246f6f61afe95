"""``MetadataStore``: every concern's store over one engine (the server opens one)."""

from __future__ import annotations

from trackwell.store.metadata._accounts import SqlAccountStore
from trackwell.store.metadata._artifacts import SqlArtifactStore
from trackwell.store.metadata._automations import SqlAutomationStore
from trackwell.store.metadata._blobs import SqlBlobIndex
from trackwell.store.metadata._edits import SqlRunEdits
from trackwell.store.metadata._ingest import SqlIngestLog
from trackwell.store.metadata._outputs import SqlConsoleStore, SqlEventStore
from trackwell.store.metadata._runs import SqlRunStore
from trackwell.store.metadata._states import SqlStateStore
from trackwell.store.metadata._sweeps import SqlSweepStore
from trackwell.store.metadata._system import SqlSystemStore


class MetadataStore(SqlRunStore, SqlRunEdits, SqlStateStore, SqlIngestLog, SqlConsoleStore, SqlEventStore,
                    SqlAccountStore, SqlBlobIndex, SqlAutomationStore, SqlSystemStore, SqlSweepStore,
                    SqlArtifactStore):
    """The relational side of the server on SQLite (default) or PostgreSQL: runs, states, the
    ingest log, console lines, events, accounts, blobs, automations, system samples and artifacts, sharing
    one engine. Opening it migrates the database
    to the newest schema. Services see it through the interfaces in ``_interfaces``."""
