"""The server's services over one process's stores: what the routers and background tasks use."""

from __future__ import annotations

from dataclasses import dataclass

from trackwell.server.blobs import BlobStore
from trackwell.server.leases import DEFAULT_LEASE_TIMEOUT
from trackwell.server.projector import Projector
from trackwell.server.services._locks import RunLocks
from trackwell.server.services.accounts import AccountsService
from trackwell.server.services.artifacts import ArtifactsService
from trackwell.server.services.console import ConsoleService
from trackwell.server.services.edits import RunEditService
from trackwell.server.services.files import FilesService
from trackwell.server.services.history import HistoryService
from trackwell.server.services.identity import Identity
from trackwell.server.services.ingest import IngestService
from trackwell.server.services.lifecycle import LifecycleService
from trackwell.server.services.runs import RunsService
from trackwell.server.services.sweeps import DEFAULT_AGENT_TIMEOUT, DEFAULT_MAX_AGENTS, SweepService
from trackwell.server.services.system import SystemService
from trackwell.store import Stores


@dataclass(frozen=True)
class Services:
    runs: RunsService
    edits: RunEditService
    history: HistoryService
    console: ConsoleService
    lifecycle: LifecycleService
    ingest: IngestService
    identity: Identity
    accounts: AccountsService
    files: FilesService | None  # None: no blob store (an ``Ingestor`` in tests and benches)
    system: SystemService
    sweeps: SweepService
    artifacts: ArtifactsService | None  # None: no blob store, as files

    @classmethod
    def over(cls, stores: Stores, *, lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
             project_inline: bool = True, auth: str = "keys", blobs: BlobStore | None = None,
             max_sweep_agents: int = DEFAULT_MAX_AGENTS, sweep_agent_timeout: float = DEFAULT_AGENT_TIMEOUT) -> Services:
        """Every service over ``stores`` (and ``blobs``; the caller closes them). ``project_inline=False``
        leaves projecting the ingest log to ``ingest.catch_up`` (the tests of the recovery path)."""
        metadata, metrics = stores.metadata, stores.metrics
        # ingest and lifecycle change a run's history under the same per-run locks
        locks, projector = RunLocks(), Projector(metadata, metadata, metrics)
        identity = Identity(metadata, auth=auth)
        return cls(
            runs=RunsService(metadata),
            edits=RunEditService(metadata, metadata, metrics, locks),
            history=HistoryService(metadata, metrics),
            console=ConsoleService(metadata, metadata, metadata),
            lifecycle=LifecycleService(metadata, metadata, metrics, projector, locks),
            ingest=IngestService(metadata, metadata, metadata, projector, locks, lease_timeout=lease_timeout,
                                 project_inline=project_inline),
            identity=identity,
            accounts=AccountsService(metadata, identity),
            sweeps=SweepService(metadata, metadata, metadata, metrics, max_agents=max_sweep_agents,
                                agent_timeout=sweep_agent_timeout),
            files=None if blobs is None else FilesService(metadata, metadata, blobs),
            system=SystemService(metadata, metadata),
            artifacts=None if blobs is None else ArtifactsService(metadata, metadata, identity, blobs),
        )
