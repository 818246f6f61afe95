"""The trackwell server: app factory, routers, ingest."""

from trackwell.server._app import API_PREFIX, create_app
from trackwell.server.ingest import ConcurrentIngest, Ingestor, InvalidBatch, SequenceGap

__all__ = ["API_PREFIX", "ConcurrentIngest", "Ingestor", "InvalidBatch", "SequenceGap", "create_app"]
