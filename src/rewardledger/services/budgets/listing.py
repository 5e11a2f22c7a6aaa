"""Pages of a budget's collections: its reservations, its corrections, and the tenant's alerts.

Owns: reading each list a page at a time with the opaque cursor of every list
(``domain.paging``). A page asks for one row more than ``limit``, so ``next_cursor`` is null
on the last page. Cursors: a reservation's reference; a correction's created_at (whole
microseconds) and transfer id; an alert's created_at, budget, period and key.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.paging import (
    decode_cursor,
    encode_cursor,
    instant_of_part,
    instant_part,
    page_limit,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.services.budgets.port import store_of
from rewardledger.services.budgets.setup import get_budget
from rewardledger.services.budgets.views import (
    AlertView,
    CorrectionView,
    ReservationView,
    alert_view,
    correction_view,
    reservation_view,
)


@dataclass(frozen=True, slots=True)
class ReservationPage:
    budget_id: str
    reservations: list[ReservationView]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CorrectionPage:
    budget_id: str
    corrections: list[CorrectionView]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class AlertPage:
    alerts: list[AlertView]
    next_cursor: str | None


def reservations_page(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> ReservationPage:
    """The budget's reservations by reference, each with its state (reserved, charged,
    released or expired) and what was charged."""
    size = page_limit(limit)
    after = None if cursor is None else str(decode_cursor(cursor, str)[0])
    policy = get_budget(ledger, tenant_id, budget_id)
    rows = store_of(ledger).reservations_page(tenant_id, policy.id, after, size + 1)
    page = [reservation_view(policy, record, resolution) for record, resolution in rows[:size]]
    more = len(rows) > size
    return ReservationPage(policy.id, page, encode_cursor(page[-1].reference) if more else None)


def corrections_page(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> CorrectionPage:
    """The budget's corrections in the order they were made, with who made them and why."""
    size = page_limit(limit)
    after = None
    if cursor is not None:
        micros, transfer_id = decode_cursor(cursor, int, str)
        after = (instant_of_part(micros), str(transfer_id))
    policy = get_budget(ledger, tenant_id, budget_id)
    rows = store_of(ledger).corrections_page(tenant_id, policy.id, after, size + 1)
    page = [correction_view(policy, record) for record in rows[:size]]
    next_cursor = None
    if len(rows) > size:
        next_cursor = encode_cursor(instant_part(page[-1].created_at), page[-1].transfer_id)
    return CorrectionPage(policy.id, page, next_cursor)


def alerts_page(
    ledger: Ledger,
    tenant_id: str,
    *,
    budget_id: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> AlertPage:
    """The tenant's budget alerts, newest first (only ``budget_id``'s, if given)."""
    size = page_limit(limit)
    before = None
    if cursor is not None:
        micros, budget, period, key = decode_cursor(cursor, int, str, str, str)
        before = (instant_of_part(micros), str(budget), str(period), str(key))
    if budget_id is not None:
        check_budget_id(budget_id)
    ledger.get_tenant(tenant_id)
    rows = store_of(ledger).alerts(tenant_id, budget_id, size + 1, before)
    page = [alert_view(a) for a in rows[:size]]
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = encode_cursor(
            instant_part(last.created_at), last.budget_id, last.period, last.key
        )
    return AlertPage(page, next_cursor)
