"""Services between the routers and the stores: each owns one concern's operations, speaks
in domain terms (no HTTP) and sees the stores only through their interfaces."""

from trackwell.server.leases import WriterConflict
from trackwell.server.services._errors import (
    Conflict,
    Forbidden,
    InvalidQuery,
    MetricNotFound,
    NotFound,
    RunDeleted,
    RunNotFound,
    Unauthenticated,
)
from trackwell.server.services._wiring import Services
from trackwell.server.services.accounts import AccountsService
from trackwell.server.services.console import ConsoleService
from trackwell.server.services.edits import RunEditService
from trackwell.server.services.files import FilesService
from trackwell.server.services.history import HistoryService
from trackwell.server.services.ingest import (
    ConcurrentIngest,
    IngestService,
    InvalidBatch,
    ResumeConflict,
    SequenceGap,
)
from trackwell.server.services.lifecycle import LifecycleService
from trackwell.server.services.runs import RunsService
from trackwell.server.services.sweeps import SweepService, TooManyAgents
from trackwell.server.services.system import SystemService

__all__ = ["AccountsService", "ConcurrentIngest", "Conflict", "ConsoleService", "FilesService", "Forbidden",
           "HistoryService", "IngestService", "InvalidBatch", "InvalidQuery", "LifecycleService", "MetricNotFound",
           "NotFound", "ResumeConflict", "RunDeleted", "RunEditService", "RunNotFound", "RunsService", "SequenceGap",
           "Services", "SweepService", "SystemService", "TooManyAgents", "Unauthenticated", "WriterConflict"]
