"""Relational metadata: runs, states, the ingest log and writer marks, metric summaries, console
lines, the events outbox; one interface per concern (``_interfaces``), all implemented by
``MetadataStore`` over one SQLAlchemy engine."""

from trackwell.store.metadata._accounts import (
    Account,
    AccountError,
    KeyRow,
    NameTaken,
    NoSuchAccount,
)
from trackwell.store.metadata._artifacts import ArtifactConflict, ArtifactNotFound, MissingBlobs
from trackwell.store.metadata._blobs import RUN, BlobRow, RunFile, add_refs, drop_refs
from trackwell.store.metadata._engine import normalize_url
from trackwell.store.metadata._ingest import Acceptance
from trackwell.store.metadata._interfaces import (
    Accepting,
    AccountStore,
    ArtifactStore,
    BlobIndex,
    ConsoleStore,
    EventStore,
    IngestLogStore,
    Run,
    RunEditStore,
    RunStore,
    StateStore,
    SystemStore,
)
from trackwell.store.metadata._lifecycle import STATES, LifecycleError
from trackwell.store.metadata._log import LogEntry, WriterRow
from trackwell.store.metadata._query import QueryError
from trackwell.store.metadata._query_checks import explain_failure
from trackwell.store.metadata._runs import MAX_LIMIT, filters_from_json
from trackwell.store.metadata._store import MetadataStore
from trackwell.store.metadata._tombstones import RunDeleted, Tombstone

__all__ = ["MAX_LIMIT", "RUN", "STATES", "Acceptance", "Accepting", "Account", "AccountError", "AccountStore",
           "ArtifactConflict", "ArtifactNotFound", "ArtifactStore", "BlobIndex", "BlobRow", "ConsoleStore", "EventStore", "IngestLogStore", "KeyRow", "LifecycleError",
           "LogEntry", "MetadataStore", "MissingBlobs", "NameTaken", "NoSuchAccount", "QueryError", "Run", "RunDeleted", "RunEditStore",
           "RunFile", "RunStore", "StateStore", "SystemStore", "Tombstone", "WriterRow", "add_refs", "drop_refs",
           "explain_failure", "filters_from_json", "normalize_url"]
