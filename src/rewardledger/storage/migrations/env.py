"""Alembic environment: runs on the connection that ``rewardledger.storage.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from rewardledger.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise RuntimeError("Run migrations with `rewardledger migrate`, which opens the connection.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
