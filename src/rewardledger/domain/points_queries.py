"""What the points service asks its store, as values: the few fields a question names, once.

Owns: ``MovementKey`` (the asset, the reason with its direction, and the holder a movement is
about), ``MovementReads`` (what a movement's unit reads first, under the holder's lock),
``RefundIds`` (the ids a redemption's refund reads by), ``AccumulationQuery`` (which of an
account's rows a page of accumulations shows) and ``ReminderWindow`` (which lots a reminders
run reminds of). Each crosses the points store's port unchanged, so the port and the store
that implements it share one short signature instead of repeating a long keyword list.

Pure: the standard library and ``domain.points`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rewardledger.domain.points import AccumType, Direction


@dataclass(frozen=True, slots=True)
class MovementKey:
    """A movement of ``holder_id``'s points on ``asset_code`` under the reason ``reason`` of
    ``direction``."""

    asset_code: str
    direction: Direction
    reason: str
    holder_id: str


@dataclass(frozen=True, slots=True)
class MovementReads:
    """What a movement's unit reads first: ``key``'s asset, reason and holder (its row locked),
    whether ``transfer_id`` is in the journal already, and the holder's open lots, or the lots
    ``lot_ids`` when given."""

    key: MovementKey
    transfer_id: str
    lot_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RefundIds:
    """The ids a redemption's refund reads by, first: the redemption ``redemption_id`` (locked), its
    holder's row (locked), whether ``refund_id`` is in the journal already, the holder's open
    lots, and the moves of the spend ``spend_id`` with the lots they took from."""

    redemption_id: str
    spend_id: str
    refund_id: str


@dataclass(frozen=True, slots=True)
class AccumulationQuery:
    """A page of ``account_id``'s posted rows, newest first: at most ``limit``, with a journal
    seq below ``before_seq`` (if given), effective from ``since`` to before ``until`` (each if
    given), and only of ``accum_type`` (all kinds when None)."""

    account_id: str
    accum_type: AccumType | None
    since: datetime | None
    until: datetime | None
    before_seq: int | None
    limit: int


@dataclass(frozen=True, slots=True)
class ReminderWindow:
    """A reminders run at ``start``: of the lots expiring after it and at most ``days_ahead``
    days later (at ``end``), recorded as reminded under ``days_ahead`` at ``start``."""

    start: datetime
    days_ahead: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days_ahead)
