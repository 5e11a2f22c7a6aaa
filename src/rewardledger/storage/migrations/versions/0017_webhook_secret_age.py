"""When a webhook endpoint's secret was last rotated: ``secret_rotated_at``.

Revision ID: 0017_webhook_secret_age
Revises: 0016_points_reminders
Create Date: 2026-12-02

Written by a rotation, so that the console can show how old the secret in use is. NULL on the
endpoints that exist before this revision and on those never rotated: their secret is as old
as the endpoint (``created_at``).
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.migrations.builders import instant

revision = "0017_webhook_secret_age"
down_revision = "0016_points_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_endpoints", instant("secret_rotated_at", nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_endpoints", "secret_rotated_at")
