"""Automations on the metadata database: integrations (secrets apart), automations, the
evaluator's outbox cursor and per-run state, and the durable deliveries with their attempts.

The evaluator's decisions for a page of events (new deliveries, per-run state, the cursor) commit
in one transaction: an event is consumed exactly when its deliveries exist. Deliveries are
claimed with a lease (``next_attempt_at`` pushed ahead) so a process that dies mid-send leaves
them to be sent again, under the same id, when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from trackwell.store.metadata._automation_tables import (
    automation_cursor,
    automation_deliveries,
    automation_runs,
    automations,
    delivery_attempts,
    integration_secrets,
    integrations,
)
from trackwell.store.metadata._database import Database
from trackwell.store.metadata._summaries import insert_for
from trackwell.store.metadata._tables import events, runs

PENDING, DELIVERED, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"


class AutomationNameTaken(ValueError):
    """An automation or integration of that name exists in the entity."""


class CursorMoved(RuntimeError):
    """Another process consumed the same events first: this page's decisions were rolled back."""


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


class SqlAutomationStore(Database):
    """``AutomationStore`` on the metadata database."""

    # -- integrations ----------------------------------------------------------------------------

    def create_integration(self, entity: str, name: str, kind: str, url: str, secret: str | None,
                           access_token: str | None, actor: str | None, now: float,
                           config: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        """The integration, and whether it is new. The same name with the same kind and URL is the
        existing one (saving the seed's unsaved integrations twice makes one); another URL is taken."""
        i = integrations.c
        with self.write() as conn:
            found = conn.execute(sa.select(integrations).where(i.entity == entity, i.name == name)).first()
            if found is not None:
                if found.kind == kind and found.url == url:
                    return _row(found), False
                raise AutomationNameTaken(f"an integration named {name!r} exists in {entity} with another URL")
            pk = conn.execute(integrations.insert().values(entity=entity, name=name, kind=kind, url=url, config=config,
                                                           created_by=actor, created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(integration_secrets.insert().values(integration_id=pk, secret=secret,
                                                             access_token=access_token))
            return _row(conn.execute(sa.select(integrations).where(i.id == pk)).one()), True

    def integrations(self, entity: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(integrations).where(integrations.c.entity == entity)
                                .order_by(integrations.c.id)).all()
        return [_row(r) for r in rows]

    def integration(self, integration_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(integrations).where(integrations.c.id == integration_id)).first()
        return None if found is None else _row(found)

    def integration_secrets(self, integration_id: int) -> tuple[str | None, str | None]:
        s = integration_secrets.c
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(s.secret, s.access_token).where(s.integration_id == integration_id)).first()
        return (None, None) if found is None else (found.secret, found.access_token)

    def delete_integration(self, integration_id: int) -> None:
        with self.write() as conn:
            conn.execute(integrations.delete().where(integrations.c.id == integration_id))

    # -- automations -----------------------------------------------------------------------------

    def create_automation(self, values: dict[str, Any]) -> dict[str, Any]:
        a = automations.c
        with self.write() as conn:
            taken = conn.execute(sa.select(a.id).where(a.entity == values["entity"], a.name == values["name"])).first()
            if taken is not None:
                raise AutomationNameTaken(f"an automation named {values['name']!r} exists in {values['entity']}")
            pk = conn.execute(automations.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
            return _row(conn.execute(sa.select(automations).where(a.id == pk)).one())

    def automations(self, entity: str, project: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        a = automations.c
        q = sa.select(automations).where(a.entity == entity).order_by(a.id)
        if project is not None:
            q = q.where(a.project == project)
        if name is not None:
            q = q.where(a.name == name)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q).all()]

    def automations_using(self, integration_id: int) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(automations.c.name, automations.c.action)).all()
        return [r.name for r in rows if (r.action or {}).get("integration_id") == integration_id]

    def update_automation(self, automation_id: int, values: dict[str, Any]) -> dict[str, Any]:
        a = automations.c
        with self.write() as conn:
            if "name" in values:
                entity = conn.execute(sa.select(a.entity).where(a.id == automation_id)).scalar_one()
                taken = conn.execute(sa.select(a.id).where(a.entity == entity, a.name == values["name"],
                                                           a.id != automation_id)).first()
                if taken is not None:
                    raise AutomationNameTaken(f"an automation named {values['name']!r} exists in {entity}")
            before = conn.execute(sa.select(a.event).where(a.id == automation_id)).scalar_one()
            conn.execute(automations.update().where(a.id == automation_id).values(**values))
            if "event" in values and values["event"] != before:  # a new filter: windows and cooldowns afresh
                conn.execute(automation_runs.delete().where(automation_runs.c.automation_id == automation_id))
            return _row(conn.execute(sa.select(automations).where(a.id == automation_id)).one())

    def delete_automation(self, automation_id: int) -> None:
        with self.write() as conn:
            conn.execute(automations.delete().where(automations.c.id == automation_id))

    def enabled_automations(self, known: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The enabled automations; those in ``known`` (by id) at the same ``updated_at`` are
        reused rather than read and decoded again (the evaluator asks every pass)."""
        a = automations.c
        known = known or {}
        with self.engine.connect() as conn:
            versions = conn.execute(sa.select(a.id, a.updated_at).where(a.enabled)).all()
            stale = [v.id for v in versions if v.id not in known or known[v.id]["updated_at"] != v.updated_at]
            fresh = {r.id: _row(r) for r in conn.execute(sa.select(automations).where(a.id.in_(stale)))} if stale \
                else {}
        return [fresh.get(v.id) or known[v.id] for v in versions]

    # -- alerts (run.alert) -------------------------------------------------------------------------

    def add_alert(self, run_pk: int, title: str, text: str, level: str, wait: float, actor: str | None,
                  now: float) -> bool:
        """A ``run_alert`` event in the outbox, unless the run sent one with this title within
        ``wait`` seconds (W&B's per-title throttle); returns whether it was added."""
        e = events.c
        with self.write() as conn:
            recent = conn.execute(sa.select(e.payload).where(e.run_pk == run_pk, e.kind == "run_alert",
                                                             e.created_at >= now - wait)).scalars().all()
            if any((p or {}).get("title") == title for p in recent):
                return False
            conn.execute(events.insert().values(kind="run_alert", run_pk=run_pk, created_at=now, actor=actor,
                                                payload={"title": title, "text": text, "level": level}))
        return True

    # -- the evaluator -----------------------------------------------------------------------------

    def automation_cursor(self, consumer: str) -> int:
        """Where ``consumer`` has read the outbox to; a new consumer starts at its end (events from
        before automations existed trigger nothing)."""
        c = automation_cursor.c
        with self.write() as conn:
            found = conn.execute(sa.select(c.last_event_id).where(c.consumer == consumer)).scalar()
            if found is not None:
                return int(found)
            last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()
            conn.execute(automation_cursor.insert().values(consumer=consumer, last_event_id=last))
            return int(last)

    def runs_by_pk(self, run_pks: Sequence[int]) -> dict[int, dict[str, Any]]:
        r = runs.c
        cols = (r.pk, r.entity, r.project, r.run_id, r.name, r.tags, r.group, r.job_type, r.config, r.state,
                r.created_by)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*cols).where(r.pk.in_(list(run_pks)))).all()
        return {row.pk: {**_row(row), "id": row.run_id} for row in rows}

    def automation_run_states(self, automation_ids: Sequence[int], run_pks: Sequence[int]) -> dict[tuple[int, int], dict[str, Any]]:
        s = automation_runs.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(automation_runs).where(s.automation_id.in_(list(automation_ids)),
                                                                 s.run_pk.in_(list(run_pks)))).all()
        return {(row.automation_id, row.run_pk): _row(row) for row in rows}

    def consume_events(self, consumer: str, from_id: int, to_id: int, states: Sequence[dict[str, Any]],
                       deliveries: Sequence[dict[str, Any]]) -> None:
        """In one transaction: the cursor moves ``from_id`` -> ``to_id`` (``CursorMoved`` if another
        process moved it), per-run states are written and deliveries recorded (one per automation and
        event: a repeat is ignored)."""
        c = automation_cursor.c
        with self.write() as conn:
            moved = conn.execute(automation_cursor.update().where(c.consumer == consumer, c.last_event_id == from_id)
                                 .values(last_event_id=to_id)).rowcount
            if moved != 1:
                raise CursorMoved(f"the {consumer} cursor is no longer at {from_id}")
            if states:
                stmt = insert_for(conn, automation_runs)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=[automation_runs.c.automation_id, automation_runs.c.run_pk],
                    set_={k: stmt.excluded[k] for k in ("last_step", "tail", "fired_at")}), list(states))
            if deliveries:
                stmt = insert_for(conn, automation_deliveries).values(list(deliveries))
                d = automation_deliveries.c
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[d.automation_id, d.event_id, d.step]))

    # -- deliveries ------------------------------------------------------------------------------

    def release_claims(self, now: float) -> int:
        """At start: deliveries this server was sending when it stopped are due again now (one
        server process per data directory; a second one on the same database may send one twice,
        which the stable ``webhook-id`` lets receivers drop)."""
        d = automation_deliveries.c
        with self.write() as conn:
            return int(conn.execute(automation_deliveries.update().where(d.status == PENDING, d.claimed_by.is_not(None))
                                    .values(claimed_by=None, next_attempt_at=now)).rowcount)

    def claim_due_deliveries(self, now: float, lease: float, claimant: str, limit: int = 32) -> list[dict[str, Any]]:
        """Pending deliveries due by ``now``, each claimed by ``claimant`` until ``now + lease``."""
        d = automation_deliveries.c
        with self.write() as conn:
            due = conn.execute(sa.select(automation_deliveries, automations.c.entity)
                               .join(automations, automations.c.id == d.automation_id)
                               .where(d.status == PENDING, d.next_attempt_at <= now)
                               .order_by(d.next_attempt_at).limit(limit)).all()
            claimed = []
            for row in due:
                got = conn.execute(automation_deliveries.update().where(
                    d.id == row.id, d.status == PENDING, d.next_attempt_at <= now).values(
                    next_attempt_at=now + lease, claimed_by=claimant))
                if got.rowcount == 1:
                    claimed.append(_row(row))
        return claimed

    def record_attempt(self, delivery_id: str, attempt: dict[str, Any], status: str, next_attempt_at: float | None,
                       now: float, url: str | None = None) -> None:
        d = automation_deliveries.c
        with self.write() as conn:
            number = conn.execute(sa.select(sa.func.count()).select_from(delivery_attempts)
                                  .where(delivery_attempts.c.delivery_id == delivery_id)).scalar_one() + 1
            conn.execute(delivery_attempts.insert().values(delivery_id=delivery_id, attempt=number, **attempt))
            conn.execute(automation_deliveries.update().where(d.id == delivery_id).values(
                status=status, attempts=d.attempts + 1, next_attempt_at=next_attempt_at, claimed_by=None,
                finished_at=None if status == PENDING else now, last_status_code=attempt.get("status_code"),
                last_error=attempt.get("error"), **({"url": url} if url is not None else {})))

    def deliveries(self, automation_id: int, limit: int = 100, before: float | None = None) -> list[dict[str, Any]]:
        """The automation's deliveries, newest first, each with its attempts."""
        d, t = automation_deliveries.c, delivery_attempts.c
        q = sa.select(automation_deliveries).where(d.automation_id == automation_id)
        if before is not None:
            q = q.where(d.created_at < before)
        with self.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(q.order_by(d.created_at.desc(), d.id).limit(limit)).all()]
            attempts = conn.execute(sa.select(delivery_attempts).where(t.delivery_id.in_([r["id"] for r in rows]))
                                    .order_by(t.delivery_id, t.attempt)).all() if rows else []
        by_id: dict[str, list[dict[str, Any]]] = {}
        for a in attempts:
            by_id.setdefault(a.delivery_id, []).append({k: v for k, v in _row(a).items() if k not in ("id", "delivery_id")})
        for row in rows:
            row["attempt_log"] = by_id.get(row["id"], [])
        return rows

    def redeliver(self, automation_id: int, delivery_id: str, now: float) -> bool:
        """Send a delivery again now, with a fresh round of retries; False: no such delivery."""
        d = automation_deliveries.c
        with self.write() as conn:
            # a no-op's delivery has nothing to send: it stays skipped
            changed = conn.execute(automation_deliveries.update().where(
                d.id == delivery_id, d.automation_id == automation_id).values(
                status=sa.case((d.action_type == "NO_OP", SKIPPED), else_=PENDING), attempts=0,
                next_attempt_at=sa.case((d.action_type == "NO_OP", None), else_=now),
                finished_at=sa.case((d.action_type == "NO_OP", now), else_=None))).rowcount
        return changed == 1
