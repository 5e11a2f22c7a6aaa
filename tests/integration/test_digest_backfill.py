"""Migration 0008 writes the digest of every journal row written before it, in batches.

A database is migrated to 0007, journal rows are written into it with plain SQL (as an older
rewardledger wrote them), and the upgrade to head digests each one: every row's stored digest
is the digest of its content, however many batches that took.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, text

from rewardledger.storage import migrate
from rewardledger.storage.engine import make_engine
from rewardledger.storage.journal_digest import row_digest
from rewardledger.storage.schema import transfers

ROWS = 5_003  # more than one of the migration's batches (5,000 rows)
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_the_upgrade_digests_every_row_written_before_it(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        config = migrate._config()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0007_budget_funding")
            connection.commit()
        rows = [
            {
                "t": "acme" if i % 2 else "zeta",
                "id": f"tr-{i:05d}",
                "amount": 100 + i,
                "seq": i + 1,
                "meta": json.dumps({"note": "before 0008", "n": i}),
            }
            for i in range(ROWS)
        ]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO transfers (tenant_id, transfer_id, phase, kind, asset_code, "
                    "amount_minor, debit_account_id, credit_account_id, effective_at, "
                    "created_at, cycle_tag, debit_entry_seq, credit_entry_seq, "
                    "debit_balance_after, credit_balance_after, metadata) VALUES (:t, :id, "
                    "'single', 'transfer', 'USD', :amount, 'a', 'b', :now, :now, '2026-01', "
                    ":seq, :seq, 0, :amount, :meta)"
                ),
                [{**row, "now": NOW} for row in rows],
            )
        migrate.upgrade(engine)
        content = [c for c in transfers.columns if c.name != "digest"]
        with engine.connect() as connection:
            stored = connection.execute(select(*content, transfers.c.digest)).all()
    finally:
        engine.dispose()
    assert len(stored) == ROWS
    for row in stored:
        assert row[-1] == row_digest(tuple(row[:-1])), row[1]
