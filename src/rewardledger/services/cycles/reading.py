"""Reading the cycle ledgers: keyset pages, one row, every row for an export.

Owns: paging ``cashback_ledger`` and ``debt_ledger`` by (holder, cycle) with the one cursor
codec of ``domain.paging``. Protects: an export holds one page in memory whatever the number
of rows; a cursor this API did not give is refused as ``validation_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from rewardledger.domain.cycles import CashbackRow, DebtRow, LedgerFilter, LedgerName, check_tag
from rewardledger.domain.errors import NotFound
from rewardledger.domain.limits import ACCOUNT_ID_LENGTH_MAX, PAGE_SIZE_MAX
from rewardledger.domain.paging import decode_cursor, invalid_cursor, page_limit, page_of
from rewardledger.ledger.engine import Ledger
from rewardledger.services.cycles.port import Pair, store_of
from rewardledger.services.cycles.projection import cashback_key, debt_key
from rewardledger.services.cycles.views import LedgerPage, RowT

ListRows = Callable[[str, LedgerFilter, Pair | None, int], list[tuple[RowT, datetime]]]


def parse_cursor(cursor: str | None) -> Pair | None:
    """The (holder, cycle) a cursor continues after; None for the first page."""
    if cursor is None:
        return None
    holder, tag = decode_cursor(cursor, str, str)
    assert isinstance(holder, str)
    assert isinstance(tag, str)
    if not holder or len(holder) > ACCOUNT_ID_LENGTH_MAX:
        raise invalid_cursor()
    return holder, check_tag(tag, "cursor")


def _page(
    list_rows: ListRows[RowT],
    key: Callable[[RowT], Pair],
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
    cursor: str | None,
    limit: int | None,
) -> LedgerPage[RowT]:
    ledger.get_tenant(tenant_id)
    size = page_limit(limit)
    rows = list_rows(tenant_id, where, parse_cursor(cursor), size + 1)
    return LedgerPage(*page_of(rows, size, lambda row: key(row[0])))


def list_cashback_ledger(
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> LedgerPage[CashbackRow]:
    list_rows = store_of(ledger).list_cashback_rows
    return _page(list_rows, cashback_key, ledger, tenant_id, where, cursor, limit)


def list_debt_ledger(
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> LedgerPage[DebtRow]:
    list_rows = store_of(ledger).list_debt_rows
    return _page(list_rows, debt_key, ledger, tenant_id, where, cursor, limit)


def _every_row(
    list_page: Callable[..., LedgerPage[RowT]],
    ledger: Ledger,
    tenant_id: str,
    where: LedgerFilter,
) -> Iterator[tuple[RowT, datetime]]:
    """Every row ``list_page`` matches, read a page of PAGE_SIZE_MAX at a time (for exports:
    memory holds one page, whatever the number of rows)."""
    cursor: str | None = None
    while True:
        page = list_page(ledger, tenant_id, where, cursor=cursor, limit=PAGE_SIZE_MAX)
        yield from page.rows
        if (cursor := page.next_cursor) is None:
            return


def every_cashback_row(
    ledger: Ledger, tenant_id: str, where: LedgerFilter
) -> Iterator[tuple[CashbackRow, datetime]]:
    return _every_row(list_cashback_ledger, ledger, tenant_id, where)


def every_debt_row(
    ledger: Ledger, tenant_id: str, where: LedgerFilter
) -> Iterator[tuple[DebtRow, datetime]]:
    return _every_row(list_debt_ledger, ledger, tenant_id, where)


def debt_by_status(
    ledger: Ledger, tenant_id: str, rows_max: int
) -> tuple[dict[str, dict[str, int]], int]:
    """Net debt (minor units) per cycle and status over the ledger's first ``rows_max`` rows
    in (person, cycle) order, summed by the database; and how many rows were summed."""
    ledger.get_tenant(tenant_id)
    found, counted = store_of(ledger).debt_sums(tenant_id, rows_max)
    sums: dict[str, dict[str, int]] = {}
    for tag, status, net_minor in found:
        sums.setdefault(tag, {})[status] = net_minor
    return sums, counted


def _one_row(
    list_page: Callable[..., LedgerPage[RowT]],
    name: LedgerName,
    ledger: Ledger,
    tenant_id: str,
    holder: str,
    tag: str,
) -> tuple[RowT, datetime]:
    where = LedgerFilter(holder_id=holder, cycle_tag=check_tag(tag))
    page = list_page(ledger, tenant_id, where, limit=1)
    if page.rows:
        return page.rows[0]
    hint = ""
    # Read only on the way to a 404: a pair whose movements wait for a refresh (refresh
    # mode job) has no row yet, and the answer says what makes it.
    if store_of(ledger).count_dirty(tenant_id, name, (holder, tag)):
        hint = (
            "Its movements are recorded but not refreshed yet: POST "
            f"/v1/tenants/{tenant_id}/cycles/refresh (or `rewardledger cycles refresh`) "
            "computes the row now, and the due jobs do at their next run."
        )
    raise NotFound(f"{name.value} ledger row", f"{holder}/{tag}", hint)


def get_cashback_row(
    ledger: Ledger, tenant_id: str, account_id: str, tag: str
) -> tuple[CashbackRow, datetime]:
    return _one_row(list_cashback_ledger, LedgerName.CASHBACK, ledger, tenant_id, account_id, tag)


def get_debt_row(
    ledger: Ledger, tenant_id: str, person_id: str, tag: str
) -> tuple[DebtRow, datetime]:
    return _one_row(list_debt_ledger, LedgerName.DEBT, ledger, tenant_id, person_id, tag)
