"""Managed accounts: ``accounts.managed_by`` names the service that alone moves an account.

Revision ID: 0011_managed_accounts
Revises: 0010_row_security
Create Date: 2026-11-23

A raw core transfer onto an account a service manages is refused (``managed_account``). The
accounts the services opened before this revision are found by the ids the services give them
and by the service's own rows, and marked:

- points: ``pts:<asset>:<holder>`` and ``pts:<asset>:@issued`` of an asset configured for
  points (``points_assets``), in that asset;
- budgets: each period's account (``budget_periods.account_id``), and
  ``budgets:funding:<currency>`` and ``budgets:issued:<currency>`` of a currency some budget
  of the tenant uses;
- debt: ``debt-control`` and ``debt:<person>`` in the currency of the tenant's debt programme;
- cashback: ``cashback-expense`` in the currency of the tenant's cashback programme.

A member's cashback account is not marked: it is the member's own (cashback only credits it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rewardledger.storage.migrations.builders import string

revision = "0011_managed_accounts"
down_revision = "0010_row_security"
branch_labels = None
depends_on = None

MANAGED_BY_LENGTH = 16

# service -> the condition (on a row of ``accounts``) that marks the accounts it opened.
BACKFILL = {
    "points": """EXISTS (
        SELECT 1 FROM points_assets p
        WHERE p.tenant_id = accounts.tenant_id AND p.asset_code = accounts.asset_code
          AND substr(accounts.account_id, 1, length(p.asset_code) + 5)
              = 'pts:' || p.asset_code || ':'
    )""",
    "budgets": """EXISTS (
        SELECT 1 FROM budget_periods bp
        WHERE bp.tenant_id = accounts.tenant_id AND bp.account_id = accounts.account_id
    ) OR EXISTS (
        SELECT 1 FROM budgets b
        WHERE b.tenant_id = accounts.tenant_id AND b.currency = accounts.asset_code
          AND accounts.account_id IN (
              'budgets:funding:' || b.currency, 'budgets:issued:' || b.currency
          )
    )""",
    "debt": """EXISTS (
        SELECT 1 FROM debt_programs d
        WHERE d.tenant_id = accounts.tenant_id AND d.currency = accounts.asset_code
          AND (accounts.account_id = 'debt-control'
               OR substr(accounts.account_id, 1, 5) = 'debt:')
    )""",
    "cashback": """EXISTS (
        SELECT 1 FROM cashback_programs c
        WHERE c.tenant_id = accounts.tenant_id AND c.currency = accounts.asset_code
          AND accounts.account_id = 'cashback-expense'
    )""",
}


def upgrade() -> None:
    op.add_column("accounts", string("managed_by", MANAGED_BY_LENGTH, nullable=True))
    for service, condition in BACKFILL.items():
        op.execute(
            sa.text(
                f"UPDATE accounts SET managed_by = :service "  # noqa: S608 - constant SQL
                f"WHERE managed_by IS NULL AND ({condition})"
            ).bindparams(service=service)
        )


def downgrade() -> None:
    op.drop_column("accounts", "managed_by")
