"""``rewardledger account list``, ``transfer list``, ``budget reservations`` and ``budget
corrections``: the lists of issue 13 from the command line.

Each prints one page as JSON, in the HTTP API's shape (amounts as decimal strings), with its
``next_cursor``: pass it back as ``--cursor`` for the next page (null on the last page).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from rewardledger.cli import output
from rewardledger.cli.budgets import BudgetId, budget_app
from rewardledger.cli.context import Cursor, Limit, Tenant, ledger_of
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.validation import parse_instant
from rewardledger.http.schemas import AccountPublic, TransferPublic
from rewardledger.http.schemas_budgets import CorrectionPublic, ReservationPublic
from rewardledger.ledger import lists
from rewardledger.services import budgets

account_app = typer.Typer(help="The tenant's accounts.", no_args_is_help=True)
transfer_app = typer.Typer(help="The tenant's transfers.", no_args_is_help=True)


@account_app.command("list")
def account_list(
    ctx: typer.Context,
    tenant: Tenant,
    asset: Annotated[str | None, typer.Option(help="Only this asset's accounts.")] = None,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> None:
    """The tenant's accounts by id, with their balances, a page at a time."""
    with ledger_of(ctx) as ledger:
        page = lists.list_accounts(ledger, tenant, asset=asset, cursor=cursor, limit=limit)
        scales = ledger.assets(tenant)
        rows = [
            AccountPublic.of(a, scales[a.asset_code].scale).model_dump(mode="json")
            for a in page.accounts
        ]
    output.emit_json({"accounts": rows, "next_cursor": page.next_cursor})


def _instant(text: str | None, field: str) -> datetime | None:
    return None if text is None else parse_instant(text, field)


@transfer_app.command("list")
def transfer_list(
    ctx: typer.Context,
    tenant: Tenant,
    account: Annotated[str | None, typer.Option(help="Only those moving this account.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Created at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Created before (ISO 8601 with offset).")
    ] = None,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> None:
    """The tenant's transfers, newest first, a page at a time."""
    with ledger_of(ctx) as ledger:
        page = lists.list_transfers(
            ledger,
            tenant,
            account=account,
            kind=kind,
            since=_instant(since, "from"),
            until=_instant(until, "to"),
            cursor=cursor,
            limit=limit,
        )
    rows = [TransferPublic.of(t).model_dump(mode="json") for t in page.transfers]
    output.emit_json({"transfers": rows, "next_cursor": page.next_cursor})


def _budget_list(name: str, read: Callable[..., Any], schema: type[BaseModel], doc: str) -> None:
    """``budget reservations`` and ``budget corrections``: one page of the budget's ``name``
    (read by ``read``), each row in ``schema``'s shape."""

    def command(
        ctx: typer.Context,
        budget_id: BudgetId,
        tenant: Tenant,
        limit: Limit = PAGE_SIZE_DEFAULT,
        cursor: Cursor = None,
    ) -> None:
        with ledger_of(ctx) as ledger:
            page = read(ledger, tenant, budget_id, cursor=cursor, limit=limit)
        rows = [schema.model_validate(row).model_dump(mode="json") for row in getattr(page, name)]
        output.emit_json({"budget_id": page.budget_id, name: rows, "next_cursor": page.next_cursor})

    command.__doc__ = doc
    command.__name__ = command.__qualname__ = name
    budget_app.command(name)(command)


_budget_list(
    "reservations",
    budgets.reservations_page,
    ReservationPublic,
    "The budget's reservations by reference, each with its state.",
)
_budget_list(
    "corrections",
    budgets.corrections_page,
    CorrectionPublic,
    "The budget's corrections in the order they were made, with who made each and why.",
)
