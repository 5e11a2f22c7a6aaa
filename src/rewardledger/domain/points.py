"""Points wallets: reason codes, expiry policies, earn lots and the order a spend consumes them.

Owns: the pure rules of the points service (issue 4), in the owners' vocabulary (seed 004):
``accum_type`` earn / spend (plus ``expire``), ``dtype`` reason codes per direction, signed
``quantity`` and the running ``balance``. Protects the points invariant: a holder's balance
equals the sum of its rows and the sum of its lots' remainders, and is never below zero unless
a reason that allows it was used (such rows are flagged ``negative_allowed``).

Everything here is pure: the service hands these functions what it has read under lock.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from rewardledger.domain import ids
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    HOLDER_ID_LENGTH_MAX,
    POINTS_EXPIRY_DAYS_MAX,
    POINTS_PENDING_SECONDS_MAX,
)


class Direction(StrEnum):
    EARN = "earn"
    SPEND = "spend"


class AccumType(StrEnum):
    """The seed's ``accum_type`` of a row, with ``expire`` for the rows that expiry posts."""

    EARN = "earn"
    SPEND = "spend"
    EXPIRE = "expire"


class LotState(StrEnum):
    PENDING = "pending"  # earned but not spendable yet (visible as pending)
    ACTIVE = "active"
    CANCELLED = "cancelled"  # a pending earn that was cancelled; never counted
    EXPIRED = "expired"


class RedemptionState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# The seed's reason codes (``dtype``), per direction; a tenant can add its own. ``points`` is in
# both: gamification earns with it (``'earn', 'points'``), redemptions spend with it.
SEED_EARN_REASONS: tuple[str, ...] = ("invoice", "daily_game", "streak", "achievement")
SEED_EARN_REASONS += ("refund", "ocr_refund", "points")
SEED_SPEND_REASONS = ("points", "ocr", "legacy_reward")
REDEMPTION_SPEND_REASON = "points"
REFUND_REASON = "refund"
EXPIRY_REASON = "expiry"

# Transfer kinds written by the service (the journal's ``kind``).
KIND_EARN = "earn"
KIND_SPEND = "spend"
KIND_EXPIRE = "expire"
KIND_REFUND = "refund"


class ExpiryKind(StrEnum):
    NONE = "none"
    AFTER = "after"  # a number of days after the lot becomes active
    FIXED = "fixed"  # a fixed date for every lot


class Rounding(StrEnum):
    NONE = "none"
    END_OF_MONTH = "end_of_month"
    END_OF_YEAR = "end_of_year"


@dataclass(frozen=True, slots=True)
class ExpiryPolicy:
    """When a lot's points expire. ``days`` for ``after``; ``at`` for ``fixed``."""

    kind: ExpiryKind = ExpiryKind.NONE
    days: int | None = None
    rounding: Rounding = Rounding.NONE
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind is ExpiryKind.AFTER:
            if (
                not isinstance(self.days, int)
                or isinstance(self.days, bool)
                or not 1 <= self.days <= POINTS_EXPIRY_DAYS_MAX
            ):
                raise ValidationError(
                    f"An 'after' expiry needs days, a whole number from 1 to "
                    f"{POINTS_EXPIRY_DAYS_MAX}.",
                    field="expiry.days",
                )
        elif self.days is not None:
            raise ValidationError("days applies only to an 'after' expiry.", field="expiry.days")
        if self.kind is ExpiryKind.FIXED:
            if not isinstance(self.at, datetime) or self.at.tzinfo is None:
                raise ValidationError(
                    "A 'fixed' expiry needs at, a time with a UTC offset.", field="expiry.at"
                )
        elif self.at is not None:
            raise ValidationError("at applies only to a 'fixed' expiry.", field="expiry.at")

    def expires_at(self, activated_at: datetime) -> datetime | None:
        """When a lot that became spendable at ``activated_at`` expires (None: never)."""
        if self.kind is ExpiryKind.NONE:
            return None
        if self.kind is ExpiryKind.FIXED:
            assert self.at is not None
            return self.at
        assert self.days is not None
        moment = activated_at + timedelta(days=self.days)
        return round_up(moment, self.rounding)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "days": self.days,
            "rounding": self.rounding.value,
            "at": None if self.at is None else self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> ExpiryPolicy:
        if not value:
            return cls()
        try:
            kind = ExpiryKind(value.get("kind", "none"))
            rounding = Rounding(value.get("rounding") or "none")
        except ValueError as error:
            raise ValidationError(
                "expiry.kind must be none, after or fixed; expiry.rounding none, end_of_month "
                "or end_of_year.",
                field="expiry",
            ) from error
        at = value.get("at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError as error:
                raise ValidationError(
                    "expiry.at must be an ISO 8601 time with an offset.", field="expiry.at"
                ) from error
        return cls(kind, value.get("days"), rounding, at)


def round_up(moment: datetime, rounding: Rounding) -> datetime:
    """The last instant of ``moment``'s month or year (UTC), or ``moment`` itself."""
    moment = moment.astimezone(UTC)
    if rounding is Rounding.END_OF_MONTH:
        last_day = calendar.monthrange(moment.year, moment.month)[1]
        return moment.replace(day=last_day, hour=23, minute=59, second=59, microsecond=0)
    if rounding is Rounding.END_OF_YEAR:
        return moment.replace(month=12, day=31, hour=23, minute=59, second=59, microsecond=0)
    return moment


@dataclass(frozen=True, slots=True)
class Reason:
    """One ``dtype`` of the tenant's catalogue and what it does.

    ``allow_negative``: a spend may take the balance below zero (a clawback); its rows are
    flagged. ``pending_seconds``: earned points stay pending that long, then activate;
    ``pending_until_activated``: they stay pending until activated or cancelled by reference.
    ``expiry`` overrides the asset's expiry policy for lots earned with this reason.
    """

    direction: Direction
    code: str
    allow_negative: bool = False
    pending_seconds: int | None = None
    pending_until_activated: bool = False
    expiry: ExpiryPolicy | None = None

    def __post_init__(self) -> None:
        ids.reason(self.code, "reason")
        if self.direction is Direction.SPEND and (
            self.pending_seconds is not None or self.pending_until_activated or self.expiry
        ):
            raise ValidationError(
                "pending and expiry settings apply to earn reasons only.", field="reason"
            )
        if self.direction is Direction.EARN and self.allow_negative:
            raise ValidationError(
                "allow_negative applies to spend reasons only.", field="allow_negative"
            )
        if self.pending_seconds is not None and (
            not isinstance(self.pending_seconds, int)
            or isinstance(self.pending_seconds, bool)
            or not 1 <= self.pending_seconds <= POINTS_PENDING_SECONDS_MAX
        ):
            raise ValidationError(
                f"pending_seconds must be a whole number from 1 to {POINTS_PENDING_SECONDS_MAX}.",
                field="pending_seconds",
            )
        if self.pending_seconds is not None and self.pending_until_activated:
            raise ValidationError(
                "Choose pending_seconds or pending_until_activated, not both.",
                field="pending_seconds",
            )

    @property
    def makes_pending(self) -> bool:
        return self.pending_seconds is not None or self.pending_until_activated


def seed_reasons() -> list[Reason]:
    return [Reason(Direction.EARN, code) for code in SEED_EARN_REASONS] + [
        Reason(Direction.SPEND, code) for code in SEED_SPEND_REASONS
    ]


@dataclass(frozen=True, slots=True)
class Lot:
    """The remainder of one earn (or the holder's deficit lot, whose remainder may be < 0)."""

    lot_id: str
    holder_id: str
    asset_code: str
    reason: str
    amount_minor: int
    remaining_minor: int
    state: LotState
    earned_at: datetime
    activated_at: datetime | None
    expires_at: datetime | None
    pending_due_at: datetime | None
    deficit: bool = False


def consumption_order(lot: Lot) -> tuple[int, datetime, datetime, str]:
    """Soonest expiry first (lots that never expire last), then oldest first, then by id."""
    never = datetime.max.replace(tzinfo=UTC)
    return (
        0 if lot.expires_at is not None else 1,
        lot.expires_at or never,
        lot.earned_at,
        lot.lot_id,
    )


def is_spendable(lot: Lot, now: datetime) -> bool:
    return (
        lot.state is LotState.ACTIVE
        and lot.remaining_minor > 0
        and (lot.expires_at is None or lot.expires_at > now)
    )


def plan_consumption(
    lots: Iterable[Lot], amount_minor: int, now: datetime
) -> tuple[list[tuple[str, int]], int]:
    """Which lots a spend of ``amount_minor`` takes from, and how much is left uncovered.

    Returns ``[(lot_id, amount)]`` in consumption order and the shortfall (0 if covered).
    """
    assert amount_minor > 0
    plan: list[tuple[str, int]] = []
    left = amount_minor
    for lot in sorted((lot for lot in lots if is_spendable(lot, now)), key=consumption_order):
        if left == 0:
            break
        take = min(lot.remaining_minor, left)
        plan.append((lot.lot_id, take))
        left -= take
    return plan, left


def is_expired(lot: Lot, now: datetime) -> bool:
    """A lot whose expiry has come and which still holds points to expire."""
    return (
        lot.state is LotState.ACTIVE
        and not lot.deficit
        and lot.expires_at is not None
        and lot.expires_at <= now
        and lot.remaining_minor > 0
    )


def expire_id(lot_id: str) -> str:
    """The derived id of a lot's expiry row: one per lot, so it is written exactly once."""
    return f"{lot_id}.expire"


def deficit_lot_id(asset_code: str, holder_id: str) -> str:
    return f"deficit:{asset_code}:{holder_id}"


def holder_account_id(asset_code: str, holder_id: str) -> str:
    return f"pts:{asset_code}:{holder_id}"


def issuance_account_id(asset_code: str) -> str:
    return f"pts:{asset_code}:@issued"


def holder_id(value: object) -> str:
    """A holder's id (the seed's ``user_id``): an account id's characters, at most
    HOLDER_ID_LENGTH_MAX of them (its account id adds the asset in front)."""
    holder = ids.account_id(value, "holder")
    if len(holder) > HOLDER_ID_LENGTH_MAX:
        raise ValidationError(
            f"holder must be at most {HOLDER_ID_LENGTH_MAX} characters.", field="holder"
        )
    return holder


def lot_policy(reason: Reason, asset_policy: ExpiryPolicy) -> ExpiryPolicy:
    """The expiry of a lot earned with ``reason``: the reason's own, else the asset's."""
    return reason.expiry if reason.expiry is not None else asset_policy


# Spends, deficits and refunds ------------------------------------------------------------------

Move = tuple[str, str, int]  # (movement id, lot id, signed amount the lot's remainder changes)


def charge_deficit(
    deficit: Lot | None,
    *,
    holder_id: str,
    asset_code: str,
    reason: str,
    shortfall_minor: int,
    at: datetime,
) -> Lot:
    """The holder's deficit lot after a spend left ``shortfall_minor`` uncovered: the one it
    has, lower by that much, or a new one (remainder ``-shortfall_minor``) opened ``at``."""
    assert shortfall_minor > 0
    if deficit is not None:
        return replace(deficit, remaining_minor=deficit.remaining_minor - shortfall_minor)
    return Lot(
        deficit_lot_id(asset_code, holder_id),
        holder_id,
        asset_code,
        reason,
        0,
        -shortfall_minor,
        LotState.ACTIVE,
        at,
        at,
        None,
        None,
        deficit=True,
    )


@dataclass(frozen=True, slots=True)
class SpendPlan:
    """What a spend does to its holder's lots: ``changed`` (with the deficit lot it lowers),
    ``opened`` (the deficit lot it opens), its ``moves``; ``shortfall_minor`` > 0: uncovered."""

    changed: list[Lot]
    opened: Lot | None
    moves: list[Move]
    available_minor: int
    shortfall_minor: int


def plan_spend(
    lots: Sequence[Lot],
    amount_minor: int,
    at: datetime,
    *,
    movement_id: str,
    holder_id: str,
    asset_code: str,
    reason: str,
) -> SpendPlan:
    """Take ``amount_minor`` from the holder's ``lots`` (soonest expiry first); what is not
    covered goes to the holder's deficit lot (found among ``lots``, or opened)."""
    taken, shortfall = plan_consumption(lots, amount_minor, at)
    by_id = {lot.lot_id: lot for lot in lots}
    changed = [
        replace(by_id[lot_id], remaining_minor=by_id[lot_id].remaining_minor - amount)
        for lot_id, amount in taken
    ]
    moves = [(movement_id, lot_id, -amount) for lot_id, amount in taken]
    opened: Lot | None = None
    if shortfall:
        found = by_id.get(deficit_lot_id(asset_code, holder_id))
        deficit = charge_deficit(
            found,
            holder_id=holder_id,
            asset_code=asset_code,
            reason=reason,
            shortfall_minor=shortfall,
            at=at,
        )
        if found is None:
            opened = deficit
        else:
            changed.append(deficit)
        moves.append((movement_id, deficit.lot_id, -shortfall))
    return SpendPlan(changed, opened, moves, amount_minor - shortfall, shortfall)


def cover_deficit(lots: Iterable[Lot], lot: Lot) -> tuple[Lot, Lot | None, list[Move]]:
    """A lot that becomes spendable first pays back the holder's deficit (if any, among
    ``lots``): (the lot, the deficit as it is after, or None if untouched, their moves)."""
    deficit = next((d for d in lots if d.deficit and d.remaining_minor < 0), None)
    if deficit is None:
        return lot, None, []
    taken = min(lot.remaining_minor, -deficit.remaining_minor)
    if taken <= 0:
        return lot, None, []
    movement_id = f"{lot.lot_id}.cover"
    return (
        replace(lot, remaining_minor=lot.remaining_minor - taken),
        replace(deficit, remaining_minor=deficit.remaining_minor + taken),
        [(movement_id, lot.lot_id, -taken), (movement_id, deficit.lot_id, taken)],
    )


def is_refundable(lot: Lot, now: datetime) -> bool:
    """A lot that may take back points a spend took from it: active and not expired (a deficit
    lot always may). Points of a lot expired since are forfeited, never revived."""
    return lot.state is LotState.ACTIVE and (
        lot.deficit or lot.expires_at is None or lot.expires_at > now
    )


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What giving a spend back does: the lots credited, their moves, what is refunded and
    what is forfeited (the part that came from lots no longer refundable)."""

    changed: list[Lot]
    moves: list[Move]
    refunded_minor: int
    forfeited_minor: int


def plan_refund(
    taken_from: Sequence[tuple[str, int]],
    lots: Mapping[str, Lot],
    now: datetime,
    *,
    movement_id: str,
) -> RefundPlan:
    """Give each ``(lot_id, amount)`` a spend took back to its lot if it is still refundable
    (``lots`` holds each lot as it is now), else forfeit it."""
    changed: list[Lot] = []
    moves: list[Move] = []
    forfeited = 0
    for lot_id, amount in taken_from:
        lot = lots[lot_id]
        if is_refundable(lot, now):
            changed.append(replace(lot, remaining_minor=lot.remaining_minor + amount))
            moves.append((movement_id, lot_id, amount))
        else:
            forfeited += amount
    return RefundPlan(changed, moves, sum(a for _, _, a in moves), forfeited)


# Redemption codes -----------------------------------------------------------------------------

# Crockford's base32: no I, L, O, U, so that a code read aloud or typed is not mistaken.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: guessing one live code takes ~10^14 tries


def make_code(random_bytes: bytes) -> str:
    """A redemption code from ``CODE_LENGTH`` random bytes (each byte picks one character)."""
    assert len(random_bytes) >= CODE_LENGTH
    return "".join(CODE_ALPHABET[b % 32] for b in random_bytes[:CODE_LENGTH])


def normalise_code(text: object) -> str:
    """The code a person typed, upper-cased, without spaces and dashes, O/I/L read as 0/1/1."""
    if not isinstance(text, str) or len(text) > 4 * CODE_LENGTH:
        raise ValidationError("code must be the redemption's code.", field="code")
    cleaned = text.upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        raise ValidationError(
            f"code must be {CODE_LENGTH} characters of 0-9 and A-Z (without I, L, O, U).",
            field="code",
        )
    return cleaned


def redemption_refund_id(redemption_id: str) -> str:
    return f"{redemption_id}.refund"


def redemption_spend_id(redemption_id: str) -> str:
    return f"{redemption_id}.spend"
