"""API keys that expire and say when they were last used: ``expires_at`` and ``last_used_at``.

Revision ID: 0015_client
Revises: 0014_worker
Create Date: 2026-12-02

``expires_at`` is set when a key is rotated: the old key keeps working until then (the overlap
the rotation stated) and not after. ``last_used_at`` is written when a key authenticates, at
most once a minute per key (``services.access.LAST_USED_RESOLUTION``). Both are NULL on the
keys that exist before this revision: they never expire and were not seen used yet.

On PostgreSQL ``api_key_by_id`` (migration 0010) returns ``SETOF api_keys`` with ``SELECT *``:
a SQL function's body is planned at each call, so it returns the new columns without change.
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.migrations.builders import instant

revision = "0015_client"
down_revision = "0014_worker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", instant("expires_at", nullable=True))
    op.add_column("api_keys", instant("last_used_at", nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("api_keys", "expires_at")
