"""Expiring-soon reminders: a ``points.expiring_soon`` event for each holder whose points will
expire within N days, so a reminder job (seed 001's "reminder jobs") can tell them in time.

Owns: the worker's ``points_reminders`` step (its ``ReminderStore`` port, implemented in
``storage.points_reminders``, is in ``services.points.port``). N is ``days_ahead``
(``REWARDLEDGER_POINTS_REMINDER_DAYS``, POINTS_REMINDER_DAYS_DEFAULT days unless set). The
lots of a holder and asset are grouped by their expiry date in the tenant's time zone; one
event per run and holder covers the dates not reminded yet, with the points expiring on each.

Protects: a reminder is written once per (holder, asset, expiry date, N), however often the
step runs and from however many workers: its key is inserted in the transaction that writes
the event, and a key already there writes nothing (``ReminderStore.mark_reminded``). A lot
earned later that expires on a date already reminded is not announced again; a changed N
reminds again, under the new N. Reminders say what will expire if nothing is spent first;
spending takes from the soonest-expiring lots, so a holder may lose less than announced.
"""

from __future__ import annotations

from datetime import datetime

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    POINTS_REMINDER_DAYS_DEFAULT,
    POINTS_REMINDER_DAYS_MAX,
    POINTS_REMINDER_HOLDERS_BATCH_SIZE,
)
from rewardledger.domain.money import Amount
from rewardledger.domain.points_queries import ReminderWindow
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.port import REMINDERS, Holder, ReminderStore

__all__ = ["REMINDERS", "Holder", "ReminderStore", "remind_expiring"]


def remind_expiring(
    ledger: Ledger, tenant_id: str, *, days_ahead: int = POINTS_REMINDER_DAYS_DEFAULT
) -> dict[str, int]:
    """Write a ``points.expiring_soon`` for every holder with points that expire within
    ``days_ahead`` days and were not reminded yet; one transaction per
    POINTS_REMINDER_HOLDERS_BATCH_SIZE holders. Returns the counts of the step."""
    if (
        not isinstance(days_ahead, int)
        or isinstance(days_ahead, bool)
        or not 1 <= days_ahead <= POINTS_REMINDER_DAYS_MAX
    ):
        raise ValidationError(
            f"days_ahead must be a whole number from 1 to {POINTS_REMINDER_DAYS_MAX}.",
            field="days_ahead",
        )
    store = ledger.extension(REMINDERS)
    reminded = dates = 0
    after: Holder | None = None
    while True:

        def batch(work: UnitOfWork, after: Holder | None = after) -> tuple[list[Holder], int, int]:
            return _remind_batch(work, store, days_ahead, after)

        page, holders, days = ledger.run(tenant_id, batch)
        reminded += holders
        dates += days
        if len(page) < POINTS_REMINDER_HOLDERS_BATCH_SIZE:
            break
        after = page[-1]
    return {"holders_reminded": reminded, "expiry_dates_reminded": dates}


def _remind_batch(
    work: UnitOfWork, store: ReminderStore, days_ahead: int, after: Holder | None
) -> tuple[list[Holder], int, int]:
    """One page of holders: their lots expiring soon, grouped by date; the new reminders'
    keys recorded and their events written. (page, holders reminded, dates reminded)."""
    tenant, window = work.tenant_id, ReminderWindow(work.now, days_ahead)
    page = store.holders_expiring(
        work.unit, tenant, window, after, POINTS_REMINDER_HOLDERS_BATCH_SIZE
    )
    by_date: dict[tuple[str, str, str], list[tuple[datetime, int]]] = {}
    for asset, holder, expires_at, remaining in store.lots_expiring(
        work.unit, tenant, window, page
    ):
        day = expires_at.astimezone(work.tenant.zone).date().isoformat()
        by_date.setdefault((asset, holder, day), []).append((expires_at, remaining))
    totals = [(a, h, d, sum(r for _, r in lots)) for (a, h, d), lots in by_date.items()]
    new = store.mark_reminded(work.unit, tenant, window, totals)
    per_holder: dict[Holder, list[tuple[str, datetime, int]]] = {}
    for asset, holder, day, amount in totals:  # in (asset, holder, expiry) order
        if (asset, holder, day) in new:
            first = min(moment for moment, _ in by_date[(asset, holder, day)])
            per_holder.setdefault((asset, holder), []).append((day, first, amount))
    for (asset, holder), expiring in per_holder.items():
        scale = work.assets[asset].scale
        payload = {
            "holder": holder,
            "asset": asset,
            "amount": str(Amount(sum(amount for _, _, amount in expiring), scale)),
            "days_ahead": days_ahead,
            "first_expires_at": expiring[0][1].isoformat(),
            "expiring": [
                {"date": day, "expires_at": first.isoformat(), "amount": str(Amount(amount, scale))}
                for day, first, amount in expiring
            ],
        }
        work.event("points.expiring_soon", f"{asset}/{holder}", payload)
    return page, len(per_holder), sum(len(e) for e in per_holder.values())
