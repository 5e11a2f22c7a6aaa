"""An append-only journal no one can rewrite silently.

Revision ID: 0005_append_only
Revises: 0004_cycles
Create Date: 2026-11-23

SQLite: ``INSERT OR REPLACE`` deleted the row in its way without firing the DELETE trigger
(``recursive_triggers`` is off), so it rewrote journal, correction, lot-move and cycle-movement
rows. A BEFORE INSERT trigger per unique key now refuses any insert whose key is taken, on any
connection. (PostgreSQL has no REPLACE; its upsert runs an UPDATE, which the UPDATE trigger
refuses.)
"""

from __future__ import annotations

from rewardledger.storage.migrations.append_only import UniqueKey, refuse_replace

revision = "0005_append_only"
down_revision = "0004_cycles"
branch_labels = None
depends_on = None

# Every append-only table and every unique key it has (the primary key first).
APPEND_ONLY_KEYS: dict[str, tuple[UniqueKey, ...]] = {
    "transfers": (
        ("key", ("tenant_id", "transfer_id"), ""),
        (
            "debit_entry",
            ("tenant_id", "debit_account_id", "debit_entry_seq"),
            "debit_entry_seq IS NOT NULL",
        ),
        (
            "credit_entry",
            ("tenant_id", "credit_account_id", "credit_entry_seq"),
            "credit_entry_seq IS NOT NULL",
        ),
        (
            "resolution",
            ("tenant_id", "pending_id"),
            "pending_id IS NOT NULL AND error_code IS NULL",
        ),
    ),
    "budget_corrections": (("key", ("tenant_id", "transfer_id"), ""),),
    "points_lot_moves": (("key", ("tenant_id", "movement_id", "lot_id"), ""),),
    "cashback_movements": (("key", ("tenant_id", "movement_id"), ""),),
    "debt_movements": (("key", ("tenant_id", "movement_id"), ""),),
}


def upgrade() -> None:
    for table, keys in APPEND_ONLY_KEYS.items():
        refuse_replace(table, keys)


def downgrade() -> None:
    raise NotImplementedError("rewardledger's journal is never made rewritable by a migration.")
