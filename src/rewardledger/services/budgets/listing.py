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
    instant_and_id_after,
    instant_of_part,
    instant_part,
    page_limit,
    page_of,
    text_after,
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
    after = text_after(cursor)
    policy = get_budget(ledger, tenant_id, budget_id)
    rows = store_of(ledger).reservations_page(tenant_id, policy.id, after, size + 1)
    kept, next_cursor = page_of(rows, size, lambda row: (row[0].reference,))
    page = [reservation_view(policy, record, resolution) for record, resolution in kept]
    return ReservationPage(policy.id, page, next_cursor)


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
    after = instant_and_id_after(cursor)
    policy = get_budget(ledger, tenant_id, budget_id)
    rows = store_of(ledger).corrections_page(tenant_id, policy.id, after, size + 1)
    kept, next_cursor = page_of(
        rows, size, lambda row: (instant_part(row.created_at), row.transfer_id)
    )
    page = [correction_view(policy, record) for record in kept]
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
    kept, next_cursor = page_of(
        rows, size, lambda a: (instant_part(a.created_at), a.budget_id, a.period, a.key)
    )
    return AlertPage([alert_view(a) for a in kept], next_cursor)
