"""Pages of the core ledger's collections: the tenant's accounts and its accepted transfers.

Owns: checking a list's filters and cursor, and making the next page's cursor. A page asks the
store for one row more than ``limit``: ``next_cursor`` is set only when more rows follow, so
the last page says so (null) instead of answering an empty page after it. Cursors are the
opaque ones of every list (``domain.paging``): an account id; a transfer's created_at (whole
microseconds) and id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain import ids
from rewardledger.domain.accounts import Account
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.paging import (
    instant_and_id_after,
    instant_part,
    page_limit,
    page_of,
    text_after,
)
from rewardledger.domain.transfer_filter import TransferFilter
from rewardledger.domain.transfers import Transfer
from rewardledger.domain.validation import check_instant
from rewardledger.ledger.engine import Ledger


@dataclass(frozen=True, slots=True)
class AccountPage:
    accounts: list[Account]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TransferPage:
    transfers: list[Transfer]
    next_cursor: str | None


def list_accounts(
    ledger: Ledger,
    tenant_id: str,
    *,
    asset: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> AccountPage:
    """The tenant's accounts by id (only those of ``asset``, if given), a page at a time."""
    size = page_limit(limit)
    after = text_after(cursor)
    code = None if asset is None else ids.asset_code(asset)
    ledger.get_tenant(tenant_id)
    rows = ledger.store.list_accounts(tenant_id, code, after, size + 1)
    return AccountPage(*page_of(rows, size, lambda account: (account.id,)))


def list_transfers(
    ledger: Ledger,
    tenant_id: str,
    *,
    account: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> TransferPage:
    """The tenant's accepted transfers, newest first, created in [since, until) and touching
    ``account`` or of ``kind`` when given; pending ones show their state."""
    size = page_limit(limit)
    before = instant_and_id_after(cursor)
    if since is not None:
        check_instant(since, "from")
    if until is not None:
        check_instant(until, "to")
    if since is not None and until is not None and until <= since:
        raise ValidationError("to must be later than from.", field="to")
    ledger.get_tenant(tenant_id)
    chosen = TransferFilter(
        account=None if account is None else ids.account_id(account, "account"),
        kind=None if kind is None else ids.kind(kind),
        since=since,
        until=until,
    )
    rows = ledger.store.list_transfers(tenant_id, chosen, before, size + 1)
    return TransferPage(*page_of(rows, size, lambda t: (instant_part(t.created_at), t.id)))
