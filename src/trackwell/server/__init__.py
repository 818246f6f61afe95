"""The trackwell server: app factory, routers, services, ingest."""

from trackwell.server._app import API_PREFIX, create_app
from trackwell.server.ingest import Ingestor
from trackwell.server.services import ConcurrentIngest, InvalidBatch, SequenceGap, Services

__all__ = ["API_PREFIX", "ConcurrentIngest", "Ingestor", "InvalidBatch", "SequenceGap", "Services", "create_app"]
