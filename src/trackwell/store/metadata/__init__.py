"""Relational metadata: runs, writer marks, metric summaries, console lines, events outbox."""

from trackwell.store.metadata._engine import normalize_url
from trackwell.store.metadata._ingest import Acceptance
from trackwell.store.metadata._lifecycle import STATES, LifecycleError
from trackwell.store.metadata._log import LogEntry, WriterRow
from trackwell.store.metadata._query import QueryError
from trackwell.store.metadata._query_checks import explain_failure
from trackwell.store.metadata._store import MAX_LIMIT, MetadataStore, filters_from_json

__all__ = ["MAX_LIMIT", "Acceptance", "STATES", "LifecycleError", "LogEntry", "MetadataStore", "QueryError", "filters_from_json",
           "WriterRow", "explain_failure", "normalize_url"]
