"""Resume, rewind, fork, stop and preempting: the run-lifecycle operations behind the REST API.

HTTP-agnostic: ``LookupError`` means no such run (404), ``ValueError`` a bad argument (400),
``LifecycleError`` a conflict with the run's state (409).
"""

from __future__ import annotations

from typing import Any

from trackwell.server.ingest import Ingestor
from trackwell.server.projector import continuation
from trackwell.store.metadata import LifecycleError


def _not_found(entity: str, project: str, run_id: str) -> LookupError:
    return LookupError(f"run {entity}/{project}/{run_id} not found; check the entity, project and run id")


def resume_info(ing: Ingestor, entity: str, project: str, run_id: str) -> dict[str, Any]:
    """What a resuming client needs before its first log: the run, its last step, where to go on."""
    pk = ing.metadata.run_pk(entity, project, run_id)
    if pk is None:
        raise _not_found(entity, project, run_id)
    last, nxt = continuation(ing.metadata, ing.metrics, pk, entity, project, run_id)
    return {"run": ing.metadata.get_run(entity, project, run_id), "last_step": last, "next_step": nxt}


def rewind(ing: Ingestor, entity: str, project: str, run_id: str, step: int) -> dict[str, Any]:
    """Hide the run's history after ``step`` (kept for audit); logging continues at step + 1."""
    if step < 0:
        raise ValueError(f"cannot rewind run {entity}/{project}/{run_id} to step {step}; steps start at 0")
    with ing.lock(entity, project, run_id):
        ing.settle(entity, project, run_id)  # what was accepted before the rewind is rewound too
        found = ing.metadata.lineage(entity, project, run_id)
        if found is None:
            raise _not_found(entity, project, run_id)
        pk, segments = found
        run = ing.metadata.get_run(entity, project, run_id)
        assert run is not None
        fork = run["forked_from"]
        if fork is not None and step < fork["step"]:
            raise ValueError(f"run {run_id} is a fork of {fork['id']} at step {fork['step']}; rewind it to step "
                             f"{fork['step']} or later, or fork {fork['id']} at step {step} instead")
        forks = ing.metadata.forks_after(entity, project, run_id, step)
        if forks:
            shown = ", ".join(f"{fid} (step {fstep})" for fid, fstep in forks[:5])
            raise LifecycleError(f"run {run_id} has forks that read its history past step {step}: {shown}; "
                                 f"rewind it to step {max(s for _, s in forks)} or later, or fork it at step "
                                 f"{step} instead")
        hidden = ing.metrics.rewind(pk, step)
        ing.metadata.rewound(pk, step, hidden, ing.metrics.stats(segments))
    return resume_info(ing, entity, project, run_id)


def fork(ing: Ingestor, entity: str, project: str, run_id: str, source: str, step: int,
         fields: dict[str, Any]) -> dict[str, Any]:
    """Create ``run_id`` whose history is ``source``'s up to ``step`` (by reference), then its own.
    Under the source's lock (a rewind of it cannot run in between) and the new run's."""
    if source == run_id:
        raise ValueError(f"run {run_id} cannot be forked from itself; fork into a new run id")
    with ing.locks((entity, project, source), (entity, project, run_id)):
        return _fork(ing, entity, project, run_id, source, step, fields)


def _fork(ing: Ingestor, entity: str, project: str, run_id: str, source: str, step: int,
          fields: dict[str, Any]) -> dict[str, Any]:
    ing.settle(entity, project, source)
    found = ing.metadata.lineage(entity, project, source)
    if found is None:
        raise _not_found(entity, project, source)
    _, segments = found
    last = ing.metrics.last_step(segments)
    if last is None:
        raise ValueError(f"run {source} has no history to fork from; start a new run instead")
    if not 0 <= step <= last:
        raise ValueError(f"cannot fork run {source} at step {step}: its steps go from 0 to {last}")
    parent = ing.metadata.get_run(entity, project, source)
    assert parent is not None
    read = [(pk, step if ceiling is None else min(ceiling, step)) for pk, ceiling in segments]
    if not ing.metadata.create_fork(entity, project, run_id, parent, step, read, ing.metrics.stats(read),
                                    dict(fields)):
        raise LifecycleError(f"run {entity}/{project}/{run_id} already exists; fork into a new run id "
                             "(or leave the id out to get a generated one)")
    return resume_info(ing, entity, project, run_id)


def stop(ing: Ingestor, entity: str, project: str, run_id: str) -> dict[str, Any]:
    pk = ing.metadata.run_pk(entity, project, run_id)
    if pk is None:
        raise _not_found(entity, project, run_id)
    ing.metadata.stop_run(pk)
    run = ing.metadata.get_run(entity, project, run_id)
    assert run is not None
    return run


def preempting(ing: Ingestor, entity: str, project: str, run_id: str) -> dict[str, Any]:
    pk = ing.metadata.run_pk(entity, project, run_id)
    if pk is None:
        raise _not_found(entity, project, run_id)
    return {"state": ing.metadata.mark_preempting(pk)}
