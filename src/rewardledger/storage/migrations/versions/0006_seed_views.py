"""The seeds' SQL names as read-only views, and ``validate_balance_integrity()`` (PostgreSQL).

Revision ID: 0006_seed_views
Revises: 0005_job_failures
Create Date: 2026-12-01

``fact_accumulations``, ``fact_balance_points``, ``v_ledger_summary``, ``user_redemptions``,
``cashback_ledger`` and ``debt_ledger`` with the seeds' columns, over the tables the services
read, so that reports written against the old system keep working. On PostgreSQL they live in
the schema ``storage.seed_views.views_schema`` names (``rewards`` by default) and are created
``security_invoker``, so that row-level security on the tables applies to whoever queries them;
on SQLite they are named ``rewards_<name>``. Every view refuses INSERT, UPDATE and DELETE
(INSTEAD OF triggers), with a message saying where to write instead.

Money: PostgreSQL ``numeric`` with the asset's scale; SQLite the API's decimal string. Every
amount also comes as ``<column>_minor``, the integer minor units (sum those on SQLite).
"""

from __future__ import annotations

from alembic import op

from rewardledger.storage.seed_views import INTEGRITY_FUNCTION, VIEW_NAMES, views_schema

revision = "0006_seed_views"
down_revision = "0005_job_failures"
branch_labels = None
depends_on = None

READ_ONLY_MESSAGE = (
    "is a read-only view of the rewardledger tables; write through the HTTP API, the CLI or "
    "the Python services (see docs/sql.md)"
)
# Assets with 10^scale beside the scale (scale is 0..8 by a check constraint): no power()
# on SQLite, and an exact integer divisor on both engines.
_UNITS = " ".join(f"WHEN {n} THEN {10**n}" for n in range(9))
ASSETS = f"(SELECT tenant_id, code, scale, CASE scale {_UNITS} END AS unit FROM assets)"
POSTED = "t.error_code IS NULL AND t.phase IN ('single', 'post')"


class Dialect:
    """The few expressions the two engines spell differently."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"

    def money(self, minor: str, scale: str = "a.scale", unit: str = "a.unit") -> str:
        """Integer minor units as the asset's decimal: numeric on PostgreSQL, text on SQLite
        (sign, whole part, then the fraction zero-padded by adding the unit and dropping its 1)."""
        if self.postgres:
            return f"round(CAST(({minor}) AS numeric) / {unit}, {scale})"
        return (
            f"CASE WHEN {scale} = 0 THEN CAST(({minor}) AS TEXT) ELSE "
            f"CASE WHEN ({minor}) < 0 THEN '-' ELSE '' END || (abs({minor}) / {unit}) || '.' "
            f"|| substr(CAST({unit} + abs({minor}) % {unit} AS TEXT), 2) END"
        )

    def json_text(self, column: str, key: str) -> str:
        if self.postgres:
            return f"({column} ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def json_flag(self, column: str, key: str) -> str:
        if self.postgres:
            return f"COALESCE(CAST({column} ->> '{key}' AS boolean), false)"
        return f"COALESCE(json_extract({column}, '$.{key}'), 0)"


def holder_account(holder: str = "h") -> str:
    return f"'pts:' || {holder}.asset_code || ':' || {holder}.holder_id"


def fact_accumulations(d: Dialect) -> str:
    """Every posted row of every points holder, signed: credits earn, debits spend or expire."""
    sides = []
    for side, sign, otherwise in (("credit", "", "earn"), ("debit", "-", "spend")):
        amount = f"{sign}t.amount_minor"
        sides.append(
            f"""SELECT h.holder_id AS user_id,
    CASE WHEN t.kind = 'expire' THEN 'expire' ELSE '{otherwise}' END AS accum_type,
    t.reason AS dtype,
    {d.money(amount)} AS quantity,
    {d.money(f"t.{side}_balance_after")} AS balance,
    t.effective_at AS "date",
    {d.json_text("t.metadata", "redemption_id")} AS redemption_id,
    t.tenant_id AS tenant_id, h.asset_code AS asset, t.transfer_id AS id,
    {d.json_flag("t.metadata", "negative_allowed")} AS negative_allowed,
    t.{side}_entry_seq AS entry_seq,
    {amount} AS quantity_minor, t.{side}_balance_after AS balance_minor
FROM points_holders h
JOIN {ASSETS} a ON a.tenant_id = h.tenant_id AND a.code = h.asset_code
JOIN transfers t ON t.tenant_id = h.tenant_id AND t.{side}_account_id = {holder_account()}
WHERE {POSTED}"""
        )
    return "\nUNION ALL\n".join(sides)


def fact_balance_points(d: Dialect) -> str:
    posted = "ac.credits_posted - ac.debits_posted"
    available = f"{posted} - ac.debits_pending"
    return f"""SELECT h.holder_id AS user_id, {d.money(posted)} AS balance,
    ac.updated_at AS latest_update,
    h.tenant_id AS tenant_id, h.asset_code AS asset,
    {d.money(available)} AS available, {d.money("ac.credits_pending")} AS pending,
    {posted} AS balance_minor, {available} AS available_minor,
    ac.credits_pending AS pending_minor
FROM points_holders h
JOIN {ASSETS} a ON a.tenant_id = h.tenant_id AND a.code = h.asset_code
JOIN accounts ac ON ac.tenant_id = h.tenant_id AND ac.account_id = {holder_account()}"""


def _sum_of(side: str, condition: str, what: str = "t.amount_minor") -> str:
    """A holder's total over its posted rows on one side (a correlated subquery, so that a
    query for some holders reads only their rows, through the entry indexes)."""
    return (
        f"(SELECT CAST(COALESCE(SUM({what}), 0) AS BIGINT) FROM transfers t WHERE t.tenant_id = h.tenant_id "
        f"AND t.{side}_account_id = {holder_account()} AND {POSTED}{condition})"
    )


def v_ledger_summary(d: Dialect) -> str:
    """Per holder what ``services.points.summary`` gives: the materialized balance, the sum of
    the rows and the sum of the active lots; ``OK`` when all three agree, else ``MISMATCH``."""
    money = ("earned", "spent", "expired", "balance", "ledger_balance", "lots_balance")
    figures = f"""SELECT h.tenant_id AS tenant_id, h.holder_id AS user_id,
    h.asset_code AS asset, a.scale AS scale, a.unit AS unit,
    {_sum_of("credit", "")} AS earned_minor,
    {_sum_of("debit", " AND t.kind <> 'expire'")} AS spent_minor,
    {_sum_of("debit", " AND t.kind = 'expire'")} AS expired_minor,
    COALESCE((SELECT ac.credits_posted - ac.debits_posted FROM accounts ac
        WHERE ac.tenant_id = h.tenant_id AND ac.account_id = {holder_account()}), 0)
        AS balance_minor,
    {_sum_of("credit", "", "1")} + {_sum_of("debit", "", "1")} AS row_count,
    (SELECT CAST(COALESCE(SUM(l.remaining_minor), 0) AS BIGINT) FROM points_lots l
        WHERE l.tenant_id = h.tenant_id AND l.asset_code = h.asset_code
        AND l.holder_id = h.holder_id AND l.state = 'active') AS lots_balance_minor
FROM points_holders h
JOIN {ASSETS} a ON a.tenant_id = h.tenant_id AND a.code = h.asset_code"""
    ledger = "s.earned_minor - s.spent_minor - s.expired_minor"
    minor = {
        "earned": "s.earned_minor",
        "spent": "s.spent_minor",
        "expired": "s.expired_minor",
        "balance": "s.balance_minor",
        "ledger_balance": f"({ledger})",
        "lots_balance": "s.lots_balance_minor",
    }
    columns = ",\n    ".join(f"{d.money(minor[m], 's.scale', 's.unit')} AS {m}" for m in money)
    minors = ", ".join(f"{minor[m]} AS {m}_minor" for m in money)
    return f"""SELECT s.user_id AS user_id, s.asset AS asset,
    {columns},
    s.row_count AS "rows",
    CASE WHEN s.balance_minor = {ledger} AND {ledger} = s.lots_balance_minor
        THEN 'OK' ELSE 'MISMATCH' END AS integrity_status,
    s.tenant_id AS tenant_id, {minors}
FROM ({figures}) s"""


def user_redemptions(d: Dialect) -> str:
    money = ("cost", "refunded", "forfeited")
    amount = {m: d.money(f"r.{m}_minor") for m in money}
    minors = ", ".join(f"r.{m}_minor AS {m}_minor" for m in money)
    return f"""SELECT r.redemption_id AS redemption_id, r.code AS code,
    r.holder_id AS user_id, r.asset_code AS asset, r.offer_id AS offer_id,
    {amount["cost"]} AS cost, r.state AS state,
    r.created_at AS created_at, r.expires_at AS expires_at,
    r.resolved_at AS resolved_at, r.resolved_by AS resolved_by,
    {amount["refunded"]} AS refunded, {amount["forfeited"]} AS forfeited,
    r.tenant_id AS tenant_id, {minors}
FROM points_redemptions r
JOIN {ASSETS} a ON a.tenant_id = r.tenant_id AND a.code = r.asset_code"""


def _cycle_ledger(d: Dialect, table: str, program: str, head: str, money: tuple[str, ...]) -> str:
    """A cycle ledger's rows in the seed's columns, amounts in the programme's currency."""
    amounts = {m: f"{d.money(f'x.{m}_minor')} AS {m}" for m in money}
    columns = head.format(**amounts)
    minors = ", ".join(f"x.{m}_minor AS {m}_minor" for m in money)
    return f"""SELECT {columns},
    x.tenant_id AS tenant_id, p.currency AS currency, {minors}
FROM {table} x
JOIN {program} p ON p.tenant_id = x.tenant_id
JOIN {ASSETS} a ON a.tenant_id = p.tenant_id AND a.code = p.currency"""


def cashback_ledger(d: Dialect) -> str:
    head = """x.cashback_ledger_id AS cashback_ledger_id, x.account_id AS account_id,
    x.cycle_tag AS cycle_tag, {total_spend}, {total_cashback}, {budget_cap},
    x.eligibility AS eligibility, {remaining_budget}, x.status AS status,
    x.notes AS notes, x.last_updated AS last_updated"""
    money = ("total_spend", "total_cashback", "budget_cap", "remaining_budget")
    return _cycle_ledger(d, "cashback_ledger", "cashback_programs", head, money)


def debt_ledger(d: Dialect) -> str:
    head = """x.debt_ledger_id AS debt_ledger_id, x.person_id AS person_id,
    x.cycle_tag AS cycle_tag, {initial_debt}, {new_debt}, {repayments}, {debt_discount},
    {net_debt}, x.status AS status, x.last_updated AS last_updated, x.notes AS notes,
    x.due_at AS due_at"""
    money = ("initial_debt", "new_debt", "repayments", "debt_discount", "net_debt")
    return _cycle_ledger(d, "debt_ledger", "debt_programs", head, money)


DEFINITIONS = {
    "fact_accumulations": fact_accumulations,
    "fact_balance_points": fact_balance_points,
    "v_ledger_summary": v_ledger_summary,
    "user_redemptions": user_redemptions,
    "cashback_ledger": cashback_ledger,
    "debt_ledger": debt_ledger,
}
assert tuple(DEFINITIONS) == VIEW_NAMES


def _postgres(schema: str) -> None:
    d = Dialect("postgresql")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    op.execute(
        f"""CREATE FUNCTION {schema}.refuse_view_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% {READ_ONLY_MESSAGE} (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'feature_not_supported';
END;
$$"""
    )
    for name, definition in DEFINITIONS.items():
        op.execute(
            f"CREATE VIEW {schema}.{name} WITH (security_invoker = true) AS\n{definition(d)}"
        )
        op.execute(
            f"CREATE TRIGGER {name}_read_only INSTEAD OF INSERT OR UPDATE OR DELETE "
            f"ON {schema}.{name} FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_view_write()"
        )
    # BEGIN ATOMIC: the body is parsed now and depends on the view, like a view would.
    op.execute(
        f"""CREATE FUNCTION {schema}.{INTEGRITY_FUNCTION}()
RETURNS TABLE (user_id text, asset text, balance numeric, ledger_balance numeric,
    lots_balance numeric, difference numeric, integrity_status text, tenant_id text)
LANGUAGE sql STABLE SECURITY INVOKER
BEGIN ATOMIC
    SELECT s.user_id, s.asset, s.balance, s.ledger_balance, s.lots_balance,
        s.balance - s.ledger_balance, s.integrity_status, s.tenant_id
    FROM {schema}.v_ledger_summary s
    WHERE s.integrity_status <> 'OK'
    ORDER BY s.tenant_id, s.asset, s.user_id;
END"""
    )


def _sqlite() -> None:
    d = Dialect("sqlite")
    for name, definition in DEFINITIONS.items():
        view = f"rewards_{name}"
        op.execute(f"CREATE VIEW {view} AS\n{definition(d)}")
        for statement in ("INSERT", "UPDATE", "DELETE"):
            message = f"{view} {READ_ONLY_MESSAGE} ({statement} refused)".replace("'", "''")
            op.execute(
                f"CREATE TRIGGER {view}_no_{statement.lower()} INSTEAD OF {statement} ON {view} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres(views_schema(bind))
    else:
        _sqlite()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = views_schema(bind)
        op.execute(f"DROP FUNCTION IF EXISTS {schema}.{INTEGRITY_FUNCTION}()")
        for name in reversed(VIEW_NAMES):
            op.execute(f"DROP VIEW IF EXISTS {schema}.{name}")
        op.execute(f"DROP FUNCTION IF EXISTS {schema}.refuse_view_write()")
        return
    for name in reversed(VIEW_NAMES):
        op.execute(f"DROP VIEW IF EXISTS rewards_{name}")
