"""Accounts: create one (writer), read it, its history and its balance (reader).

History is keyset-paginated, newest first: each page's ``next_cursor`` is passed back as
``cursor`` for the next, older page, so pages stay stable while new entries are written.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from rewardledger.domain.limits import ACCOUNT_ID_LENGTH_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from rewardledger.http.deps import LedgerDep, Reader, Writer
from rewardledger.http.fields import id_path
from rewardledger.http.idempotency import IdempotencyKeyHeader
from rewardledger.http.keyed_writes import keyed
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.schemas import (
    ACCOUNT_ID_PATH_PATTERN,
    CURSOR_PATTERN,
    AccountCreate,
    AccountPublic,
    BalancePublic,
    HistoryPublic,
    IsoTime,
)

router = APIRouter(tags=["accounts"])

AccountIdPath = Annotated[
    str, id_path(ACCOUNT_ID_PATH_PATTERN, ACCOUNT_ID_LENGTH_MAX, "The account's id.")
]
_READ_PROBLEMS = tenant_route_problems()


@router.post(
    "/tenants/{tid}/accounts",
    status_code=201,
    responses=tenant_route_problems(
        "already_exists",
        "idempotency_conflict",
    ),
)
def create_account(
    body: AccountCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AccountPublic:
    """Open an account of one asset; ``no_negative`` forbids its balance going below zero.

    Sending the same values again returns the account; other values are ``already_exists``.
    Under an ``Idempotency-Key`` a retry answers the first result (its balances then).
    """

    def write() -> AccountPublic:
        account = ledger.create_account(
            principal.tenant_id,
            body.id,
            asset=body.asset,
            no_negative=body.no_negative,
            metadata=body.metadata,
        )
        scale = ledger.get_asset(principal.tenant_id, account.asset_code).scale
        return AccountPublic.of(account, scale)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /accounts",
        header=idempotency_key,
        body=body,
        public=AccountPublic,
        write=write,
    )


@router.get("/tenants/{tid}/accounts/{aid}", responses=_READ_PROBLEMS)
def get_account(aid: AccountIdPath, ledger: LedgerDep, principal: Reader) -> AccountPublic:
    """The account with its balances: posted, available, and pending debits and credits."""
    account = ledger.get_account(principal.tenant_id, aid)
    return AccountPublic.of(
        account, ledger.get_asset(principal.tenant_id, account.asset_code).scale
    )


@router.get("/tenants/{tid}/accounts/{aid}/history", responses=_READ_PROBLEMS)
def account_history(
    aid: AccountIdPath,
    ledger: LedgerDep,
    principal: Reader,
    limit: Annotated[
        int, Query(ge=1, le=PAGE_SIZE_MAX, description="Entries per page.")
    ] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[
        str | None,
        Query(pattern=CURSOR_PATTERN, description="The next_cursor of the previous page."),
    ] = None,
) -> HistoryPublic:
    """The account's entries, newest first, each with the posted balance after it."""
    return HistoryPublic.of(ledger.history(principal.tenant_id, aid, limit=limit, cursor=cursor))


@router.get("/tenants/{tid}/accounts/{aid}/balance", responses=_READ_PROBLEMS)
def account_balance(
    aid: AccountIdPath,
    ledger: LedgerDep,
    principal: Reader,
    at: Annotated[
        IsoTime | None,
        Query(description="A past time with offset: the posted balance as of then."),
    ] = None,
) -> BalancePublic:
    """Balances now (posted, available, pending), or the posted balance as of ``at``."""
    return BalancePublic.of(ledger.balance(principal.tenant_id, aid, at=at))
