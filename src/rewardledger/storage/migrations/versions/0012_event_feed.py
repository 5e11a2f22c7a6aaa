"""The event feed: every outbox row gets a place in its tenant's order of events.

Revision ID: 0012_event_feed
Revises: 0011_managed_accounts
Create Date: 2026-12-02

``outbox.position`` numbers the events as they are written, and ``outbox.txid`` names the
transaction that wrote each (PostgreSQL's ``pg_current_xact_id()``; 0 on SQLite). A reader of
the feed (replay from a cursor, the relays to webhooks and brokers) goes in (txid, position)
order and, on PostgreSQL, reads only rows of transactions older than the oldest one still
running (``pg_snapshot_xmin``), so a transaction that commits after a later-numbered one is
never skipped: once the feed has passed a row, no row can appear before it. On SQLite the
writers take turns, so positions (counted per tenant there) are given in commit order and txid
stays 0.

The events written before this revision are numbered in the order they were written
(``created_at``, then their time-ordered id). On PostgreSQL ``position`` defaults to the next
value of ``outbox_position_seq``, so the database numbers each new row whatever writes it
(COPY included); on SQLite a trigger gives each new row the next number
(the unique index on ``position`` makes that a lookup of the last one).

``event_sink_cursors`` keeps where each sink of a tenant is in that order (row-level security
as every tenant table, see 0010_row_security).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import (
    bigint,
    instant,
    string,
    tenant_row_security,
    tenant_table,
)

revision = "0012_event_feed"
down_revision = "0011_managed_accounts"
branch_labels = None
depends_on = None

NUMBER_EXISTING = """
UPDATE outbox SET position = numbered.n FROM (
    SELECT tenant_id, event_id, row_number() OVER (ORDER BY created_at, event_id) AS n
    FROM outbox
) AS numbered
WHERE outbox.tenant_id = numbered.tenant_id AND outbox.event_id = numbered.event_id
"""
SQLITE_NEXT_POSITION = """
CREATE TRIGGER outbox_position AFTER INSERT ON outbox WHEN NEW.position IS NULL
BEGIN
    UPDATE outbox SET position = (
        SELECT COALESCE(MAX(position), 0) + 1 FROM outbox WHERE tenant_id = NEW.tenant_id
    )
    WHERE tenant_id = NEW.tenant_id AND event_id = NEW.event_id;
END
"""
TXID = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("outbox", bigint("position", nullable=True))
    default = sa.text(TXID) if postgres else sa.text("0")
    op.add_column(
        "outbox", sa.Column("txid", sa.BigInteger(), nullable=False, server_default=default)
    )
    if postgres:
        op.execute("UPDATE outbox SET txid = 0")
    op.execute(NUMBER_EXISTING)
    if postgres:
        op.execute("CREATE SEQUENCE outbox_position_seq OWNED BY outbox.position")
        op.execute(
            "SELECT setval('outbox_position_seq', "
            "COALESCE((SELECT MAX(position) FROM outbox), 0) + 1, false)"
        )
        op.execute(
            "ALTER TABLE outbox ALTER COLUMN position SET DEFAULT nextval('outbox_position_seq')"
        )
    else:
        op.execute(SQLITE_NEXT_POSITION)
    op.create_index("uq_outbox_position", "outbox", ["tenant_id", "position"], unique=True)
    op.create_index("ix_outbox_feed", "outbox", ["tenant_id", "txid", "position"])
    tenant_table(
        "event_sink_cursors",
        string("sink", 64),
        bigint("txid"),
        bigint("position"),
        instant("updated_at"),
        key=["sink"],
    )
    tenant_row_security("event_sink_cursors")


def downgrade() -> None:
    op.drop_table("event_sink_cursors")
    op.drop_index("ix_outbox_feed", table_name="outbox")
    op.drop_index("uq_outbox_position", table_name="outbox")
    postgres = op.get_bind().dialect.name == "postgresql"
    if not postgres:
        op.execute("DROP TRIGGER outbox_position")
    op.drop_column("outbox", "txid")
    op.drop_column("outbox", "position")
    if postgres:
        op.execute("DROP SEQUENCE IF EXISTS outbox_position_seq")
