"""Alembic environment: trackwell runs migrations programmatically on a connection it passes in
``config.attributes["connection"]`` (see ``trackwell.store.metadata._engine.upgrade``)."""

from __future__ import annotations

from alembic import context

from trackwell.store.metadata._tables import metadata

connection = context.config.attributes["connection"]
# Batch mode lets later revisions alter tables on SQLite, which lacks most ALTER TABLE forms.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
