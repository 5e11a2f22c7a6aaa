"""Lists and keyed set-up writes: two keyset indexes, and ``keyed_writes``.

Revision ID: 0018_lists_and_keys
Revises: 0017_webhook_secret_age
Create Date: 2026-12-02

``ix_transfers_created`` (tenant, created_at, transfer_id) serves ``GET /transfers``, newest
first, page after page without OFFSET; ``ix_budget_corrections_budget`` (tenant, budget,
created_at, transfer_id) serves a budget's ``GET .../corrections``. The other new lists
(accounts, a budget's reservations, alerts) page on keys that existed already.

``keyed_writes`` keeps the first answer of each set-up write sent with an ``Idempotency-Key``
(assets, accounts, budgets, webhook endpoints, the points programme's settings), with the
digest of its request: the same request again is answered from it, another one is 409
``idempotency_conflict``. Row-level security as on every tenant table (see 0010).
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.migrations.builders import (
    document,
    instant,
    string,
    tenant_index,
    tenant_row_security,
    tenant_table,
)

revision = "0018_lists_and_keys"
down_revision = "0017_webhook_secret_age"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tenant_index("transfers", "created", ["created_at", "transfer_id"])
    tenant_index("budget_corrections", "budget", ["budget_id", "created_at", "transfer_id"])
    tenant_table(
        "keyed_writes",
        string("operation", 200),
        string("idempotency_key", 128),
        string("request_digest", 64),
        document("response"),
        instant("created_at"),
        key=["operation", "idempotency_key"],
    )
    tenant_row_security("keyed_writes")


def downgrade() -> None:
    op.drop_table("keyed_writes")
    op.drop_index("ix_budget_corrections_budget", table_name="budget_corrections")
    op.drop_index("ix_transfers_created", table_name="transfers")
