"""The client's lists of accounts, transfers, a budget's reservations and its corrections.

Each answers one page; ``Client.pages`` follows ``next_cursor`` through all of them.
"""

from __future__ import annotations

from datetime import datetime

from rewardledger.client._operation import ask, operation
from rewardledger.client._transport import Call
from rewardledger.http.schemas_lists import (
    AccountPagePublic,
    CorrectionPagePublic,
    ReservationPagePublic,
    TransferPagePublic,
)

T = "/v1/tenants/{tid}"


class ListOperations:
    @operation("GET", f"{T}/accounts")
    def list_accounts(
        self, *, asset: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Call[AccountPagePublic]:
        """The tenant's accounts by id, with their balances (only ``asset``'s, if given)."""
        return ask(AccountPagePublic, query={"asset": asset, "limit": limit, "cursor": cursor})

    @operation("GET", f"{T}/transfers")
    def list_transfers(
        self,
        *,
        account: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[TransferPagePublic]:
        """The tenant's transfers newest first, created in [since, until)."""
        query = {
            "account": account,
            "kind": kind,
            "from": None if since is None else since.isoformat(),
            "to": None if until is None else until.isoformat(),
            "limit": limit,
            "cursor": cursor,
        }
        return ask(TransferPagePublic, query=query)

    @operation("GET", f"{T}/budgets/{{bid}}/reservations")
    def list_reservations(
        self, bid: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[ReservationPagePublic]:
        """The budget's reservations by reference, each with its state."""
        return ask(
            ReservationPagePublic, path={"bid": bid}, query={"limit": limit, "cursor": cursor}
        )

    @operation("GET", f"{T}/budgets/{{bid}}/corrections")
    def list_corrections(
        self, bid: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[CorrectionPagePublic]:
        """The budget's corrections in the order they were made."""
        return ask(
            CorrectionPagePublic, path={"bid": bid}, query={"limit": limit, "cursor": cursor}
        )
