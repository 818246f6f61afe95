"""Relational metadata: runs, writer marks, metric summaries, console lines, events outbox."""

from trackwell.store.metadata._apply import KeyStats
from trackwell.store.metadata._engine import normalize_url
from trackwell.store.metadata._lifecycle import STATES, LifecycleError
from trackwell.store.metadata._query import QueryError
from trackwell.store.metadata._store import MAX_LIMIT, MetadataStore, filters_from_json

__all__ = ["MAX_LIMIT", "STATES", "KeyStats", "LifecycleError", "MetadataStore", "QueryError", "filters_from_json",
           "normalize_url"]
