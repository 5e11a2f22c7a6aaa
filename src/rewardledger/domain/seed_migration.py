"""The seeds' rows as rewardledger's requests: pure functions, no I/O.

Owns: the logical names of the seeds' tables and how a user renames them, the id a migrated
item carries (derived from its source table and key, so that a second run finds it), and how
a legacy ``numeric`` becomes a decimal string the domain's ``Amount`` parses. Protects: "no
float ever touches money" (a legacy value with more digits than the asset's scale is refused,
never rounded) and idempotency (the same source row always maps to the same id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.money import Amount

DEFAULT_SCHEMA = "rewards"
ACCUMULATIONS = "fact_accumulations"
BALANCES = "fact_balance_points"
DEBT_MOVEMENTS = "debt_movements"
DEBT_LEDGER = "debt_ledger"
CASHBACK_MOVEMENTS = "cashback_movements"
CASHBACK_LEDGER = "cashback_ledger"
BUDGETS = "budgets"
BUDGET_ENTRIES = "ledger_entries"
REDEMPTIONS = "user_redemptions"
# The seeds' tables this command knows, by logical name (the name in the seeds): the two
# that every source has, and the optional ones (a source without the debt tables has no debt
# to move).
OPTIONAL_TABLES = (
    DEBT_MOVEMENTS,
    DEBT_LEDGER,
    CASHBACK_MOVEMENTS,
    CASHBACK_LEDGER,
    BUDGETS,
    BUDGET_ENTRIES,
    REDEMPTIONS,
)
TABLES = (ACCUMULATIONS, BALANCES, *OPTIONAL_TABLES)
# Columns read from each table; every table also needs the key column ``id`` except the
# balances, keyed by ``user_id`` (seed 004).
ACCUMULATION_COLUMNS = ("id", "user_id", "accum_type", "dtype", "quantity", "date", "redemption_id")
BALANCE_COLUMNS = ("user_id", "balance")
# Seed 001: each debt_movements row mutates a person's debt by its four amounts, which the
# sync sums per (person_id, cycle_tag) into debt_ledger (net = initial + new - repayments -
# discount). The seed names no key or time column for the movements: ``id`` and
# ``created_at`` are needed (the key for the derived ids, the time for the cycle).
DEBT_AMOUNT_KINDS = (
    ("initial_debt", "opening"),
    ("new_debt", "charge"),
    ("repayments", "repayment"),
    ("debt_discount", "discount"),
)
DEBT_MOVEMENT_COLUMNS = (
    "id",
    "person_id",
    "cycle_tag",
    *(column for column, _ in DEBT_AMOUNT_KINDS),
    "created_at",
)
DEBT_LEDGER_COLUMNS = ("person_id", "cycle_tag", "net_debt")
# Seed 000 names cashback_ledger's columns and, of the movements, only account_id, cycle_tag,
# cashback_amount and budget_cap; a key, the qualifying spend and a time are needed too.
CASHBACK_MOVEMENT_COLUMNS = (
    "id",
    "account_id",
    "cycle_tag",
    "spend_amount",
    "cashback_amount",
    "budget_cap",
    "created_at",
)
CASHBACK_LEDGER_COLUMNS = ("account_id", "cycle_tag", "total_cashback")
# Seeds 002/003: a budget (id, currency, balance, hard_cap, soft_cap, period) and its
# ledger_entries (budget_id, entry_type, currency, amount, ref_id, created_at); the entries'
# key ``id`` is needed for the derived ids (``domain.seed_budgets`` maps them).
# Seed 004 names ``user_redemptions`` (codes, states, validations: "does not affect the
# balance") but documents none of its columns; it is looked for, counted and not migrated
# (docs/migrating.md says why), so no column is required of it.
REDEMPTION_COLUMNS: tuple[str, ...] = ()
REDEMPTIONS_SKIPPED = (
    "not migrated: its spends and refunds are fact_accumulations rows, migrated above; a "
    "rewardledger redemption posts its own spend, so moving it would spend twice (see "
    "docs/migrating.md, 'user_redemptions')."
)
BUDGET_COLUMNS = ("id", "currency", "balance", "hard_cap", "soft_cap", "period")
BUDGET_ENTRY_COLUMNS = (
    "id",
    "budget_id",
    "entry_type",
    "currency",
    "amount",
    "ref_id",
    "created_at",
)
MIGRATED_ID_PREFIX = "mig"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def identifier(name: str, what: str) -> str:
    """A plain SQL name (letters, digits, underscores): the only kind a source may use."""
    if not _IDENTIFIER.match(name):
        raise ValidationError(
            f"{what} {name!r} is not a plain SQL name; use letters, digits and underscores "
            "(at most 63), starting with a letter or an underscore.",
            field=what,
        )
    return name


@dataclass(frozen=True, slots=True)
class SeedTables:
    """Where the seeds' tables are in the source: a schema and, per logical name, a table."""

    schema: str = DEFAULT_SCHEMA
    names: Mapping[str, str] = field(default_factory=dict)

    def table(self, logical: str) -> str:
        return self.names.get(logical, logical)


def seed_tables(schema: str, renames: Iterable[str]) -> SeedTables:
    """``--schema`` and the ``--table-name LOGICAL=ACTUAL`` options, checked."""
    names: dict[str, str] = {}
    for rename in renames:
        logical, found, actual = rename.partition("=")
        if not found or logical not in TABLES:
            raise ValidationError(
                f"--table-name {rename!r} must be LOGICAL=ACTUAL with LOGICAL one of "
                f"{', '.join(TABLES)}, such as fact_accumulations=points_rows.",
                field="table_name",
            )
        names[logical] = identifier(actual, "table_name")
    return SeedTables(identifier(schema, "schema"), names)


def migrated_id(logical_table: str, key: object) -> str:
    """The id an item migrated from ``logical_table``'s row ``key`` carries, on every run.

    Derived from the logical name, not the configured one, so that renaming the source's
    schema or table between runs still finds the items of the first run.
    """
    digest = hashlib.sha256(f"{logical_table}\x1f{key}".encode()).hexdigest()
    return f"{MIGRATED_ID_PREFIX}.{logical_table[:8]}.{digest[:32]}"


def decimal_text(value: object, scale: int, field_name: str) -> str:
    """A legacy ``numeric``/``bigint`` as the decimal string of an amount of ``scale`` places.

    Trailing zeros beyond the scale are not precision and are dropped ("100.00" is 100 points);
    any other extra digit is refused by ``Amount.parse``, never rounded. A float is refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValidationError(
            f"{field_name} must be a number, got {type(value).__name__}.", field=field_name
        )
    text = format(value, "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0")
        text = f"{whole}.{fraction}" if fraction else whole
    if text == "-0":
        text = "0"
    Amount.parse(text.removeprefix("-"), scale, field=field_name)
    return text


def minor_of(value: object, scale: int, field_name: str) -> int:
    """A legacy figure as integer minor units (``decimal_text``, then ``Amount.parse``)."""
    text = decimal_text(value, scale, field_name)
    magnitude = Amount.parse(text.removeprefix("-"), scale, field=field_name).minor
    return -magnitude if text.startswith("-") else magnitude


def accumulation_record(row: Mapping[str, Any], scale: int) -> dict[str, Any]:
    """A ``fact_accumulations`` row as a row of the points import (``import_history``).

    The import checks it like any file row (accum_type, dtype, the sign of quantity, the
    date). A legacy ``TIMESTAMP`` without a zone is taken as UTC.
    """
    when = row.get("date")
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    quantity = row.get("quantity")
    redemption = row.get("redemption_id")
    return {
        "id": migrated_id(ACCUMULATIONS, row["id"]),
        "user": "" if row.get("user_id") is None else str(row["user_id"]),
        "accum_type": row.get("accum_type") or "",
        "dtype": row.get("dtype") or "",
        "quantity": "" if quantity is None else decimal_text(quantity, scale, "quantity"),
        "date": when.isoformat() if isinstance(when, datetime) else "",
        "redemption_id": "" if redemption is None else str(redemption),
    }


@dataclass(frozen=True, slots=True)
class DebtChange:
    """One debt movement a ``debt_movements`` row maps to (one per non-zero amount column)."""

    id: str
    person_id: str
    kind: str  # a ``domain.cycles.DebtKind`` value
    amount_minor: int
    cycle_tag: str | None
    occurred_at: datetime | None


def debt_changes(row: Mapping[str, Any], scale: int) -> list[DebtChange]:
    """A ``debt_movements`` row as its movements: ``initial_debt`` an opening, ``new_debt`` a
    charge, ``repayments`` a repayment, ``debt_discount`` a discount. Each amount must be zero
    or above (a negative one is refused: seed 001's formula subtracts repayments and
    discounts, so a negative would be a charge in disguise); a row with none is refused."""
    person = row.get("person_id")
    if person is None or not str(person).strip():
        raise ValidationError("person_id is missing.", field="person_id")
    when = row.get("created_at")
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    tag = row.get("cycle_tag")
    changes: list[DebtChange] = []
    for column, kind in DEBT_AMOUNT_KINDS:
        value = row.get(column)
        minor = 0 if value is None else minor_of(value, scale, column)
        if minor < 0:
            raise ValidationError(f"{column} must not be negative, got {value}.", field=column)
        if minor:
            changes.append(
                DebtChange(
                    migrated_id(DEBT_MOVEMENTS, f"{row['id']}:{column}"),
                    str(person).strip(),
                    kind,
                    minor,
                    None if tag is None else str(tag),
                    when if isinstance(when, datetime) else None,
                )
            )
    if not changes:
        raise ValidationError(
            "the row moves nothing: every amount is zero or missing.", field="new_debt"
        )
    return changes


@dataclass(frozen=True, slots=True)
class CashbackAccrualFields:
    """A ``cashback_movements`` row as the fields of an accrual (decimal strings)."""

    id: str
    account_id: str
    spend: str
    cashback: str
    budget_cap: str | None
    cycle_tag: str | None
    occurred_at: datetime | None


def cashback_accrual(row: Mapping[str, Any], scale: int) -> CashbackAccrualFields:
    """A ``cashback_movements`` row as an accrual. Its ``cashback_amount`` is what the old
    system credited after its caps (seed 000: ``total_cashback`` is their sum), so it is
    recorded as an override: rewardledger credits exactly that, and does not cap it again."""
    when = row.get("created_at")
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    cap = row.get("budget_cap")
    tag = row.get("cycle_tag")
    account = row.get("account_id")
    return CashbackAccrualFields(
        migrated_id(CASHBACK_MOVEMENTS, row["id"]),
        "" if account is None else str(account).strip(),
        decimal_text(row.get("spend_amount"), scale, "spend_amount"),
        decimal_text(row.get("cashback_amount"), scale, "cashback_amount"),
        None if cap is None else decimal_text(cap, scale, "budget_cap"),
        None if tag is None else str(tag),
        when if isinstance(when, datetime) else None,
    )
