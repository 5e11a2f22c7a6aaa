"""The event catalogue: every event type the code writes to the outbox, with its payload's
version and fields (docs/events.md is written from it, and a test keeps the two equal).

Owns: the version an envelope carries (``events.envelope``). Protects: a consumer can rely on
the type and version of every event: tests fail when the code writes an event type that is not
here (a scan of the source and a run of the use cases), or a payload field that is not listed.
A change to a payload's meaning or shape bumps its version here and in docs/events.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from rewardledger.domain.errors import NotFound


@dataclass(frozen=True, slots=True)
class EventKind:
    """One event type: what its subject is, the fields its payload may carry, and the
    payload's version."""

    event_type: str
    version: int
    subject: str
    fields: tuple[str, ...]
    description: str


_ALERT_FIELDS = ("kind", "used", "hard_cap", "soft_cap", "amount", "percent", "reference")
_FIX_FIELDS = ("fix_key", "figures", "note", "actor")
_CASHBACK_FIELDS = (
    "account_id",
    "cycle_tag",
    "total_cashback",
    "remaining_budget",
    "eligibility",
    "status",
)

_PERIOD_CLOSED_FIELDS = (
    "period",
    "next_period",
    "currency",
    "hard_cap",
    "soft_cap",
    "funded",
    "rolled_in",
    "reserved",
    "charged",
    "released",
    "used",
    "available",
)
_EXPIRING_FIELDS = ("holder", "asset", "amount", "days_ahead", "first_expires_at", "expiring")
_RECONCILED_FIELDS = ("status", "day", "checked", "ok_count", "mismatch_count", "checks")

_KINDS: Final = (
    EventKind("tenant.created", 1, "tenant id", (), "A tenant was created."),
    EventKind("asset.created", 1, "asset code", (), "An asset (currency, points) was added."),
    EventKind("account.created", 1, "account id", ("asset",), "An account was opened in an asset."),
    EventKind("transfer.posted", 1, "transfer id", (), "A single-phase transfer was posted."),
    EventKind("transfer.pending", 1, "transfer id", (), "A hold (pending transfer) was placed."),
    EventKind("transfer.pending_posted", 1, "transfer id", (), "A hold was posted (settled)."),
    EventKind("transfer.pending_voided", 1, "transfer id", (), "A hold was voided."),
    EventKind("transfer.pending_expired", 1, "transfer id", (), "A hold reached its timeout."),
    EventKind(
        "integrity.repaired",
        1,
        "repair id",
        ("actor", "changes", "accounts_checked"),
        "A balance and hold repair (`verify --repair`) finished; `changes` counts what it fixed.",
    ),
    EventKind(
        "reconciliation.completed",
        1,
        "run id",
        _RECONCILED_FIELDS,
        "The daily reconciliation ran: the ledger, every budget and every points holder "
        "against the journal; `status` is `clean` or `mismatch`.",
    ),
    EventKind(
        "reconciliation.mismatch_found",
        1,
        "run id",
        ("day", "checks", "samples"),
        "The daily reconciliation found differences (after its `reconciliation.completed`); "
        "`samples` lists the first ones.",
    ),
    EventKind("budget.created", 1, "budget id", ("currency",), "A campaign budget was created."),
    EventKind(
        "budget.period_opened",
        1,
        "budget id",
        ("period",),
        "A budget period was opened (its first write, or a reset).",
    ),
    EventKind(
        "budget.period_closed",
        1,
        "budget id",
        _PERIOD_CLOSED_FIELDS,
        "A budget period was closed by the opening of the next (the calendar's reset or one "
        "on demand); its figures as they stood at the close, before any rollover out of it.",
    ),
    EventKind("budget.funded", 1, "budget id", ("amount",), "A budget's period was topped up."),
    EventKind(
        "budget.reserved", 1, "budget id", ("reference",), "An amount was reserved on a budget."
    ),
    EventKind(
        "budget.charged", 1, "budget id", ("reference",), "A reservation was charged (spent)."
    ),
    EventKind("budget.released", 1, "budget id", ("reference",), "A reservation was released."),
    EventKind(
        "budget.reset",
        1,
        "budget id",
        ("period", "previous"),
        "A budget moved to a new period; `previous` is the period it closed.",
    ),
    EventKind(
        "budget.alert",
        1,
        "budget id",
        _ALERT_FIELDS + _FIX_FIELDS,
        "A budget alert was raised once per (budget, period, kind): a threshold crossed, a "
        "refused reserve, or a discrepancy fixed; the fields present depend on `kind`.",
    ),
    EventKind(
        "budget.fixed",
        1,
        "budget id",
        ("fix_key",),
        "A reconciliation discrepancy of a budget was fixed.",
    ),
    EventKind(
        "budget.corrected",
        1,
        "budget id",
        ("transfer_id", "actor"),
        "A budget movement was reversed by a correction transfer.",
    ),
    EventKind(
        "points.earned",
        1,
        "lot id",
        ("holder", "amount"),
        "A holder earned points (a new lot, active or pending).",
    ),
    EventKind("points.activated", 1, "lot id", ("holder",), "Pending points became spendable."),
    EventKind("points.cancelled", 1, "lot id", ("holder",), "Pending points were cancelled."),
    EventKind(
        "points.spent",
        1,
        "transfer id",
        ("holder", "amount"),
        "A holder spent points (a direct spend; a redemption is `redemption.created`).",
    ),
    EventKind(
        "points.expired",
        1,
        "lot id",
        ("holder", "amount"),
        "What was left of a lot expired; `amount` is what expired.",
    ),
    EventKind(
        "points.expiring_soon",
        1,
        "asset code/holder id",
        _EXPIRING_FIELDS,
        "A holder's points will expire within `days_ahead` days: once per (holder, asset, "
        "expiry date, days ahead); `expiring` lists each date with its points.",
    ),
    EventKind(
        "redemption.created",
        1,
        "redemption id",
        ("holder", "offer_id"),
        "A holder redeemed an offer; the points are taken, the redemption is pending.",
    ),
    EventKind("redemption.confirmed", 1, "redemption id", ("by",), "A redemption was honoured."),
    EventKind(
        "redemption.cancelled",
        1,
        "redemption id",
        ("refunded",),
        "A pending redemption was cancelled; `refunded` points went back to the holder.",
    ),
    EventKind(
        "redemption.expired",
        1,
        "redemption id",
        ("refunded",),
        "A pending redemption passed its expiry; `refunded` points went back to the holder.",
    ),
    EventKind(
        "cashback_ledger.changed",
        1,
        "account id/cycle tag",
        _CASHBACK_FIELDS,
        "A row of the cashback ledger (seed 000) changed.",
    ),
    EventKind(
        "cashback_cycle.closed",
        1,
        "account id/cycle tag",
        _CASHBACK_FIELDS,
        "A cashback cycle closed for an account (after its `cashback_ledger.changed`).",
    ),
    EventKind(
        "debt.overdue",
        1,
        "person id/cycle tag",
        ("person_id", "cycle_tag", "net_debt", "status"),
        "A person's debt of a cycle became overdue (after its `debt_ledger.changed`).",
    ),
    EventKind(
        "debt_ledger.changed",
        1,
        "person id/cycle tag",
        ("person_id", "cycle_tag", "net_debt", "status"),
        "A row of the debt ledger (seed 001) changed.",
    ),
)

CATALOGUE: Final[dict[str, EventKind]] = {kind.event_type: kind for kind in _KINDS}


def kind_of(event_type: str) -> EventKind:
    """The catalogue's entry for ``event_type`` (``not_found`` for a type it lacks)."""
    kind = CATALOGUE.get(event_type)
    if kind is None:
        raise NotFound("event_type", event_type)
    return kind
