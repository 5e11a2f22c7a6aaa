"""What a reservation's resolution allows: a charge, a release, a replay, or a refusal.

Owns the rules of a reservation once made (glossary: charge = post, release = void): it is
charged at most once; a charged one is never released; a released or expired one holds
nothing to charge; and the same charge (same idempotency key) or release again is a replay.
"""

from __future__ import annotations

from rewardledger.domain.budgets.policy import BudgetPolicy
from rewardledger.domain.budgets.records import Resolution
from rewardledger.domain.errors import AlreadyCharged, NotPending
from rewardledger.domain.replay import check_replay

STATE_BY_PHASE = {"post": "charged", "void": "released", "expire": "expired"}


def reservation_state(resolution: Resolution | None) -> str:
    """reserved, charged, released or expired."""
    return "reserved" if resolution is None else STATE_BY_PHASE[resolution.phase]


def check_charge(
    policy: BudgetPolicy,
    reference: str,
    resolution: Resolution | None,
    charge_id: str | None,
    idempotency_key: str | None,
    amount_minor: int | None,
) -> bool:
    """Whether this charge replays the one that resolved the reservation (True), or may be
    made now (False, the reservation is open); refuse it otherwise."""
    if resolution is None:
        return False
    if resolution.phase != "post":
        raise NotPending(
            f"Reservation {reference!r} was {reservation_state(resolution)} (by "
            f"{resolution.transfer_id}); it holds nothing to charge. Reserve again with a new "
            "reference.",
            reference=reference,
            resolved_by=resolution.transfer_id,
        )
    if charge_id is None or resolution.transfer_id != charge_id:
        raise AlreadyCharged(
            f"Reservation {reference!r} was charged already "
            f"({policy.amount(resolution.amount_minor)}, by {resolution.transfer_id}).",
            budget_id=policy.id,
            reference=reference,
            resolved_by=resolution.transfer_id,
        )
    check_replay(
        idempotency_key or "",
        amount=amount_minor is None or amount_minor == resolution.amount_minor,
    )
    return True


def check_release(policy: BudgetPolicy, reference: str, resolution: Resolution | None) -> bool:
    """Whether releasing is a replay (True: released or expired already) or may be done now
    (False); a charged reservation is refused."""
    if resolution is None:
        return False
    if resolution.phase == "post":
        raise AlreadyCharged(
            f"Reservation {reference!r} was charged; a charge cannot be released. "
            "Correct it with a correction if it was wrong.",
            budget_id=policy.id,
            reference=reference,
            resolved_by=resolution.transfer_id,
        )
    return True
