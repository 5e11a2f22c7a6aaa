"""What a correction may reverse, and by how much.

Owns the correction rules: only a top-up or a charge of the budget itself can be reversed; a
reversed top-up takes funds out of its period (budget -> funding), a reversed charge puts them
back (issued -> budget); and a transfer is never reversed for more than it moved, over all its
corrections. A replay of a correction key must name the same transfer and amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rewardledger.domain.budgets.policy import (
    KIND_FUND,
    BudgetPolicy,
    funding_account,
    issued_account,
)
from rewardledger.domain.budgets.records import (
    CorrectionRecord,
    EntryRecord,
    PeriodRecord,
    entry_type,
)
from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.replay import check_replay


@dataclass(frozen=True, slots=True)
class CorrectionPlan:
    """The correcting transfer to write: the other way round, for ``amount_minor``, raising the
    period's ``counter`` (``reversed_funds_minor`` or ``reversed_charges_minor``)."""

    period: str
    debit_account_id: str
    credit_account_id: str
    counter: str
    amount_minor: int


def plan_correction(
    policy: BudgetPolicy,
    reverses: str,
    target: EntryRecord | None,
    periods: Mapping[str, PeriodRecord],
    corrected_minor: int,
    amount_minor: int | None,
) -> CorrectionPlan:
    """How to reverse ``target`` (the journal row ``reverses``), wholly when ``amount_minor``
    is None; ``periods`` are the budget's periods by account id, ``corrected_minor`` what
    earlier corrections of it reversed already."""
    if target is None or target.refused:
        raise NotFound("transfer", reverses)
    kind = entry_type(target.phase, target.kind)
    if kind == KIND_FUND and target.credit_account_id in periods:
        period = periods[target.credit_account_id]
        debit, credit = period.account_id, funding_account(policy.currency)
        counter = "reversed_funds_minor"
    elif kind == "charge" and target.debit_account_id in periods:
        period = periods[target.debit_account_id]
        debit, credit = issued_account(policy.currency), period.account_id
        counter = "reversed_charges_minor"
    else:
        raise ValidationError(
            f"{reverses!r} is not a top-up or a charge of budget {policy.id!r}; only those "
            "can be corrected.",
            field="reverses",
        )
    left = target.amount_minor - corrected_minor
    chosen = left if amount_minor is None else amount_minor
    if chosen <= 0 or chosen > left:
        raise ValidationError(
            f"{reverses!r} has {policy.amount(max(left, 0))} left to reverse; a correction "
            "cannot reverse more than the transfer moved.",
            field="amount",
        )
    return CorrectionPlan(period.period, debit, credit, counter, chosen)


def check_correction_replay(
    idempotency_key: str,
    previous: CorrectionRecord | None,
    reverses: str,
    amount_minor: int | None,
) -> CorrectionRecord:
    """The correction a replayed key wrote, if this request is the same one (an amount left
    out matches any); ``previous`` is None when the key's transfer is not a correction."""
    check_replay(
        idempotency_key,
        reverses=previous is not None and previous.reverses_id == reverses,
        amount=previous is not None
        and (amount_minor is None or amount_minor == previous.amount_minor),
    )
    assert previous is not None
    return previous
