"""Building blocks of the migrations: a tenant table, its keys, its indexes and its columns,
said once.

Every table of rewardledger belongs to a tenant: its first column is ``tenant_id``, its primary
key starts with it, and it is a clustered (``WITHOUT ROWID``) table on SQLite. Foreign keys
and indexes start with ``tenant_id`` too. Columns are said by their kind (``string``,
``instant``, ``bigint``, ``counter``, ``flag``, ``document``), as ``storage.metadata`` says
them. These helpers write exactly the DDL that the migrations wrote by hand before them (names
follow the metadata's naming convention), so a database migrated before and after they
existed is the same. Like the migrations, they are frozen: a new schema change gets a new
helper rather than a change here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ZERO = sa.text("0")
# Row-level security's condition on every tenant table (migration 0010_row_security).
TENANT_IS_SET = "tenant_id = current_setting('rewardledger.tenant_id', true)"


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    """A ``VARCHAR(length)`` column."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def instant(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A timestamp with its time zone."""
    return sa.Column(name, TIMESTAMP, nullable=nullable)


def bigint(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """An integer such as an amount in minor units."""
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def counter(name: str) -> sa.Column[Any]:
    """A running total that starts at 0 (the database supplies the 0)."""
    return sa.Column(name, sa.BigInteger(), server_default=ZERO, nullable=False)


def flag(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def document(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A JSON document (JSONB on PostgreSQL)."""
    return sa.Column(name, JSON_DOCUMENT, nullable=nullable)


def tenant_table(name: str, *elements: sa.schema.SchemaItem, key: Sequence[str]) -> None:
    """Create ``name`` with ``tenant_id`` first, then ``elements``, keyed by tenant + ``key``."""
    op.create_table(
        name,
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        *elements,
        sa.PrimaryKeyConstraint("tenant_id", *key, name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def belongs_to(table: str, parent: str, columns: Mapping[str, str]) -> sa.ForeignKeyConstraint:
    """A foreign key from ``table`` to ``parent`` on the tenant and ``columns`` (ours: theirs)."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{parent}.tenant_id", *(f"{parent}.{column}" for column in columns.values())],
        name=op.f(f"fk_{table}_tenant_id_{parent}"),
    )


def check(table: str, label: str, condition: str) -> sa.CheckConstraint:
    """A CHECK constraint named ``ck_<table>_<label>``."""
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{label}"))


def tenant_index(
    table: str, label: str, columns: Sequence[str], *, unique: bool = False, where: str = ""
) -> None:
    """An index ``ix_<table>_<label>`` on the tenant and ``columns``, partial when ``where``."""
    partial: dict[str, Any] = (
        {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)} if where else {}
    )
    op.create_index(f"ix_{table}_{label}", table, ["tenant_id", *columns], unique=unique, **partial)


def tenant_row_security(*tables: str) -> None:
    """On PostgreSQL, turn row-level security on for ``tables`` with the policy every tenant
    table has: its rows are seen and written only under the transaction's tenant. Nothing on
    SQLite."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_rows ON {table} USING ({TENANT_IS_SET}) "
            f"WITH CHECK ({TENANT_IS_SET})"
        )
