"""Alembic's environment for the store: always run on the connection that
``service.store.Store.migrate`` hands over (already in its transaction, with
its lock held), never from a URL of its own."""

from __future__ import annotations

from alembic import context

from service.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through service.store.Store.open(), which passes the connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
