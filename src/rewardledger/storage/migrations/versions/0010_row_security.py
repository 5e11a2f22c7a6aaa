"""Row-level security on PostgreSQL: the application's role sees its transaction's tenant only.

Revision ID: 0010_row_security
Revises: 0009_cycle_totals
Create Date: 2026-12-02

Every table has a ``tenant_id``. Each gets row-level security and a policy that shows and
accepts only the rows whose ``tenant_id`` is the transaction's ``rewardledger.tenant_id``
setting (``storage.tenancy`` sets it in each transaction's BEGIN); with no tenant set, no row
at all. The tables' owner, who runs the migrations, bypasses the policies (they are not
FORCEd), so migrations and ``rewardledger db`` work across tenants.

Two reads cross tenants on purpose: the tenants themselves are listed (``tenants`` has a
permissive SELECT policy: a tenant's row is its id, name and time zone), and an access key is
found by its id before its tenant is known, through ``api_key_by_id``, a SECURITY DEFINER
function that returns that one key and nothing else. SQLite has no roles: nothing to do there.
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.migrations.builders import tenant_row_security

revision = "0010_row_security"
down_revision = "0009_cycle_totals"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "tenants",
    "assets",
    "accounts",
    "api_keys",
    "transfers",
    "holds",
    "outbox",
    "integrity_repairs",
    "integrity_repair_changes",
    "journal_seals",
    "budgets",
    "budget_periods",
    "budget_reservations",
    "budget_corrections",
    "budget_alerts",
    "budget_fixes",
    "points_assets",
    "points_holders",
    "points_lots",
    "points_lot_moves",
    "points_reasons",
    "points_redemptions",
    "cashback_programs",
    "cashback_accounts",
    "cashback_movements",
    "cashback_ledger",
    "debt_programs",
    "debt_movements",
    "debt_ledger",
    "cycle_settings",
    "cycle_dirty",
    "cashback_totals",
    "job_failures",
)
KEY_BY_ID = "$$ SELECT * FROM api_keys WHERE key_id = wanted $$"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    tenant_row_security(*TENANT_TABLES)
    op.execute("CREATE POLICY tenants_listed ON tenants FOR SELECT USING (true)")
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    definer = (
        "CREATE FUNCTION api_key_by_id(wanted text) RETURNS SETOF api_keys "
        f'LANGUAGE sql STABLE SECURITY DEFINER SET search_path = "{schema}" AS '
    )
    op.execute(definer + KEY_BY_ID)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION api_key_by_id(text)")
    op.execute("DROP POLICY tenants_listed ON tenants")
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY tenant_rows ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
