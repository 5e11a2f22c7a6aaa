"""Lists of the tenant's accounts and transfers, and of a budget's reservations and
corrections (reader and up).

Every list answers its rows and ``next_cursor``: pass it back as ``cursor`` for the next page
(null on the last page). Pages are read by keyset, so rows written meanwhile neither repeat
nor shift a page; a cursor this list did not give is a 422 ``validation_error``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from rewardledger.domain import ids
from rewardledger.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    ASSET_CODE_LENGTH_MAX,
    BUDGET_ID_LENGTH_MAX,
    KIND_LENGTH_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
)
from rewardledger.http.deps import LedgerDep, Reader
from rewardledger.http.fields import id_query
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.schemas import (
    ACCOUNT_ID_PATH_PATTERN,
    OPAQUE_CURSOR_PATTERN,
    AccountPublic,
    IsoTime,
    TransferPublic,
)
from rewardledger.http.schemas_budgets import (
    BUDGET_ID_PATH_PATTERN,
)
from rewardledger.http.schemas_lists import (
    AccountPagePublic,
    CorrectionPagePublic,
    ReservationPagePublic,
    TransferPagePublic,
)
from rewardledger.ledger import lists
from rewardledger.services import budgets

router = APIRouter()

_READ = tenant_route_problems()
Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Rows per page.")]
Cursor = Annotated[
    str | None,
    Query(pattern=OPAQUE_CURSOR_PATTERN, description="The next_cursor of the previous page."),
]
BudgetIdPath = Annotated[str, Path(max_length=BUDGET_ID_LENGTH_MAX, pattern=BUDGET_ID_PATH_PATTERN)]


class Paging(BaseModel):
    """Which page of a list to answer: ``limit`` rows after ``cursor`` (the first page without
    one). Taken from the query as these two parameters, in this order."""

    model_config = ConfigDict(frozen=True)

    limit: Limit = PAGE_SIZE_DEFAULT
    cursor: Cursor = None


class LargePaging(Paging):
    """The paging of a list whose pages are as large as a page may be unless asked smaller."""

    limit: Limit = PAGE_SIZE_MAX


PagingQuery = Annotated[Paging, Query()]
LargePagingQuery = Annotated[LargePaging, Query()]
FIRST_PAGE = Paging()
FIRST_LARGE_PAGE = LargePaging()


@router.get("/tenants/{tid}/accounts", tags=["accounts"], responses=_READ)
def list_accounts(
    ledger: LedgerDep,
    principal: Reader,
    asset: Annotated[
        str | None,
        id_query(
            f"^(?:{ids.ASSET_CODE_PATTERN})$",
            ASSET_CODE_LENGTH_MAX,
            "Only the accounts of this asset.",
        ),
    ] = None,
    paging: PagingQuery = FIRST_PAGE,
) -> AccountPagePublic:
    """The tenant's accounts by id, with their balances, a page at a time."""
    page = lists.list_accounts(
        ledger, principal.tenant_id, asset=asset, cursor=paging.cursor, limit=paging.limit
    )
    scales = ledger.assets(principal.tenant_id)
    return AccountPagePublic(
        accounts=[AccountPublic.of(a, scales[a.asset_code].scale) for a in page.accounts],
        next_cursor=page.next_cursor,
    )


@router.get("/tenants/{tid}/transfers", tags=["transfers"], responses=_READ)
def list_transfers(
    ledger: LedgerDep,
    principal: Reader,
    account: Annotated[
        str | None,
        id_query(
            ACCOUNT_ID_PATH_PATTERN,
            ACCOUNT_ID_LENGTH_MAX,
            "Only the transfers that debit or credit this account.",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        id_query(f"^(?:{ids.KIND_PATTERN})$", KIND_LENGTH_MAX, "Only the transfers of this kind."),
    ] = None,
    since: Annotated[
        IsoTime | None,
        Query(alias="from", description="Only those created at or after this time."),
    ] = None,
    until: Annotated[
        IsoTime | None, Query(alias="to", description="Only those created before this time.")
    ] = None,
    paging: PagingQuery = FIRST_PAGE,
) -> TransferPagePublic:
    """The tenant's transfers, newest first, filtered by account, kind and creation time.

    Requests that were refused moved nothing and are not listed; pending transfers show
    their state and the transfer that resolved them.
    """
    page = lists.list_transfers(
        ledger,
        principal.tenant_id,
        account=account,
        kind=kind,
        since=since,
        until=until,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return TransferPagePublic(
        transfers=[TransferPublic.of(t) for t in page.transfers], next_cursor=page.next_cursor
    )


@router.get("/tenants/{tid}/budgets/{bid}/reservations", tags=["budgets"], responses=_READ)
def list_reservations(
    bid: BudgetIdPath,
    ledger: LedgerDep,
    principal: Reader,
    paging: PagingQuery = FIRST_PAGE,
) -> ReservationPagePublic:
    """The budget's reservations (holds) by reference, each with its state: reserved,
    charged, released or expired."""
    page = budgets.reservations_page(
        ledger, principal.tenant_id, bid, cursor=paging.cursor, limit=paging.limit
    )
    return ReservationPagePublic.of(page)


@router.get("/tenants/{tid}/budgets/{bid}/corrections", tags=["budgets"], responses=_READ)
def list_corrections(
    bid: BudgetIdPath,
    ledger: LedgerDep,
    principal: Reader,
    paging: PagingQuery = FIRST_PAGE,
) -> CorrectionPagePublic:
    """The budget's corrections in the order they were made, with who made each and why."""
    page = budgets.corrections_page(
        ledger, principal.tenant_id, bid, cursor=paging.cursor, limit=paging.limit
    )
    return CorrectionPagePublic.of(page)
