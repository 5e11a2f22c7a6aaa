"""An append-only journal no one can rewrite silently.

Revision ID: 0008_append_only
Revises: 0007_budget_funding
Create Date: 2026-11-23

SQLite: ``INSERT OR REPLACE`` deleted the row in its way without firing the DELETE trigger
(``recursive_triggers`` is off), so it rewrote journal, correction, lot-move and cycle-movement
rows. A BEFORE INSERT trigger per unique key now refuses any insert whose key is taken, on any
connection. (PostgreSQL has no REPLACE; its upsert runs an UPDATE, which the UPDATE trigger
refuses.)

Tamper evidence: every journal row gets a ``digest`` column, the SHA-256 of its content
(``storage.journal_digest``), computed here for the rows already written (the one time the
journal's UPDATE trigger is lifted, inside this migration's transaction), and
``journal_seals`` records the seals that chain those digests (append-only too).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.journal_digest import DIGEST_COLUMNS, row_digest
from rewardledger.storage.migrations.append_only import UniqueKey, refuse_changes, refuse_replace
from rewardledger.storage.migrations.builders import bigint, instant, string
from rewardledger.storage.schema import transfers

revision = "0008_append_only"
down_revision = "0007_budget_funding"
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
    "journal_seals": (("key", ("tenant_id", "seal_seq"), ""),),
    "budget_fixes": (("key", ("tenant_id", "budget_id", "fix_key", "period", "figure"), ""),),
}
SEALS_MESSAGE = "journal seals are append-only: seal again instead"
DIGEST_BATCH_ROWS = 5_000


def upgrade() -> None:
    op.add_column("transfers", sa.Column("digest", sa.LargeBinary(length=32), nullable=True))
    _digest_existing_rows()
    op.create_table(
        "journal_seals",
        string("tenant_id", 64),
        sa.Column("seal_seq", sa.Integer(), autoincrement=False, nullable=False),
        instant("cutoff_at"),
        instant("sealed_at"),
        bigint("rows_count"),
        bigint("accounts_count"),
        string("segment_digest", 64),
        string("head", 64),
        sa.PrimaryKeyConstraint("tenant_id", "seal_seq", name=op.f("pk_journal_seals")),
        sqlite_with_rowid=False,
    )
    refuse_changes("rewardledger_seals_append_only", ("journal_seals",), SEALS_MESSAGE)
    for table, keys in APPEND_ONLY_KEYS.items():
        refuse_replace(table, keys)


def _digest_existing_rows() -> None:
    """Write the digest of every row written before this migration."""
    bind = op.get_bind()
    content = [transfers.c[name] for name in DIGEST_COLUMNS]
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE transfers DISABLE TRIGGER transfers_append_only")
    else:
        trigger = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'transfers_no_update'"
        ).scalar_one()
        op.execute("DROP TRIGGER transfers_no_update")
    update = (
        transfers.update()
        .where(
            transfers.c.tenant_id == sa.bindparam("t"),
            transfers.c.transfer_id == sa.bindparam("id"),
        )
        .values(digest=sa.bindparam("d"))
    )
    # In batches by key, so that memory stays flat however long the journal is.
    after: tuple[str, str] | None = None
    while True:
        page = sa.select(*content).order_by(transfers.c.tenant_id, transfers.c.transfer_id)
        if after is not None:
            page = page.where(sa.tuple_(transfers.c.tenant_id, transfers.c.transfer_id) > after)
        rows = bind.execute(page.limit(DIGEST_BATCH_ROWS)).all()
        if not rows:
            break
        bind.execute(update, [{"t": r[0], "id": r[1], "d": row_digest(tuple(r))} for r in rows])
        after = (rows[-1][0], rows[-1][1])
    if postgres:
        op.execute("ALTER TABLE transfers ENABLE TRIGGER transfers_append_only")
    else:
        op.execute(trigger)


def downgrade() -> None:
    raise NotImplementedError("rewardledger's journal is never made rewritable by a migration.")
