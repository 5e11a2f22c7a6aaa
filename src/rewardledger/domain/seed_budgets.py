"""The seeds' budgets and their ``ledger_entries`` as rewardledger's budget requests: pure.

Owns: how a seed 002 budget row becomes a budget definition (its caps as decimal strings of
the currency's scale, its period one of rewardledger's) and how a ledger entry becomes one
budget call: ``fund`` a top-up, ``reserve`` a reservation of the issuance ``ref_id``,
``charge`` the charge of that reservation, ``release`` its release, ``reverse`` a correction
of the fund or charge entry whose key is ``ref_id``. Protects: idempotency (a top-up's,
charge's and correction's key derives from the entry's key; a reservation's is the issuance
``ref_id``, as in the old system) and "no float ever touches money" (``decimal_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.money import Amount
from rewardledger.domain.seed_migration import BUDGET_ENTRIES, decimal_text, migrated_id

ENTRY_TYPES = ("fund", "reserve", "charge", "release", "reverse")
# The seed's periods (ResetBudget: "rolling, monthly, quarterly, and yearly").
PERIODS = ("rolling", "monthly", "quarterly", "yearly")
# Entries that name the reward issuance they hold, spend or give back in ``ref_id``.
_BY_ISSUANCE = ("reserve", "charge", "release")
MIGRATION_ACTOR = "migrate-from seeds"


@dataclass(frozen=True, slots=True)
class BudgetFields:
    """A ``budgets`` row as the fields of ``create_budget`` (amounts as decimal strings)."""

    id: str
    currency: str
    hard_cap: str
    soft_cap: str | None
    period: str


def budget_fields(row: Mapping[str, Any], scale: int) -> BudgetFields:
    """A ``budgets`` row; its ``balance`` is not moved (it is what the reconciliation
    compares). A period outside the seed's four, or a missing one, is refused."""
    period = row.get("period")
    if period not in PERIODS:
        raise ValidationError(
            f"period must be one of {', '.join(PERIODS)}, got {period!r}.", field="period"
        )
    soft = row.get("soft_cap")
    return BudgetFields(
        id=str(row.get("id") or ""),
        currency=str(row.get("currency") or "").strip().upper(),
        hard_cap=decimal_text(row.get("hard_cap"), scale, "hard_cap"),
        soft_cap=None if soft is None else decimal_text(soft, scale, "soft_cap"),
        period=str(period),
    )


@dataclass(frozen=True, slots=True)
class BudgetEntryFields:
    """A ``ledger_entries`` row as one budget call (see the module)."""

    key: str  # the idempotency key derived from the entry's key
    budget_id: str
    kind: str
    amount: str  # the magnitude: seed 002 writes a release with a negative amount
    amount_minor: int
    scale: int
    currency: str
    reference: str | None  # the issuance (reserve, charge, release) or the reversed entry
    occurred_at: datetime | None


def reversed_entry_key(reference: str) -> str:
    """The key a ``reverse``'s ``ref_id`` (another entry's key) was migrated under."""
    return migrated_id(BUDGET_ENTRIES, reference)


def budget_entry(row: Mapping[str, Any], scale: int) -> BudgetEntryFields:
    """A ``ledger_entries`` row. Its amount must be above zero (a release's and a reverse's
    may be negative, seed 002 writes them so; their magnitude is taken); a reserve, charge,
    release or reverse without ``ref_id`` is refused."""
    kind = row.get("entry_type")
    if kind not in ENTRY_TYPES:
        raise ValidationError(
            f"entry_type must be one of {', '.join(ENTRY_TYPES)}, got {kind!r}.",
            field="entry_type",
        )
    text = decimal_text(row.get("amount"), scale, "amount")
    if text.startswith("-") and kind in ("release", "reverse"):
        text = text[1:]
    if text.startswith("-") or text.strip("0.") == "":
        raise ValidationError(f"amount must be above zero, got {text}.", field="amount")
    reference = row.get("ref_id")
    if reference is None and kind != "fund":
        what = "reserved issuance" if kind in _BY_ISSUANCE else "entry it reverses"
        raise ValidationError(f"a {kind} needs ref_id (the {what}).", field="ref_id")
    when = row.get("created_at")
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return BudgetEntryFields(
        key=migrated_id(BUDGET_ENTRIES, row["id"]),
        budget_id=str(row.get("budget_id") or ""),
        kind=str(kind),
        amount=text,
        amount_minor=Amount.parse(text, scale, field="amount").minor,
        scale=scale,
        currency=str(row.get("currency") or "").strip().upper(),
        reference=None if reference is None else str(reference),
        occurred_at=when if isinstance(when, datetime) else None,
    )
