"""``rewardledger points configure``, ``set-expiry``, ``assets``, ``reason`` and ``reasons``:
setting up a points programme (the same as the ``/points/configure``, ``/points/assets`` and
``/points/reasons`` routes). Thin: parse, call one service function, print JSON.

Its commands join ``points_app`` (``cli.points``), which ``cli.main`` imports from here.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rewardledger.cli import output
from rewardledger.cli.context import Cursor, Limit, Tenant, ledger_of, parse_time
from rewardledger.cli.points import AssetOption, points_app

__all__ = ["points_app"]
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason, Rounding
from rewardledger.services import points
from rewardledger.services.points import DEFAULT_ASSET


def _policy(
    expire_after_days: int | None, round_to: Rounding, expire_at: str | None, never: bool
) -> ExpiryPolicy | None:
    """The expiry policy the options ask for; None when they ask for none in particular."""
    if expire_after_days is not None:
        return ExpiryPolicy(ExpiryKind.AFTER, days=expire_after_days, rounding=round_to)
    if expire_at is not None:
        return ExpiryPolicy(ExpiryKind.FIXED, at=parse_time(expire_at, "expire_at"))
    return ExpiryPolicy() if never else None


ExpireAfterDays = Annotated[
    int | None, typer.Option(help="Lots expire this many days after activation.")
]
RoundTo = Annotated[
    Rounding, typer.Option(help="Round the expiry up to the end of the month or year.")
]
ExpireAt = Annotated[
    str | None, typer.Option(help="Every lot expires at this fixed time (ISO 8601).")
]
Never = Annotated[bool, typer.Option("--never-expire", help="Lots never expire.")]


def _asset(made: points.PointsAsset) -> dict[str, Any]:
    return {"asset": made.code, "scale": made.scale, "expiry": made.expiry.to_json()}


@points_app.command("configure")
def configure(
    ctx: typer.Context,
    tenant: Tenant,
    asset: AssetOption = DEFAULT_ASSET,
    scale: Annotated[
        int | None, typer.Option(help="Decimals of a new points asset (default 0).")
    ] = None,
    expire_after_days: ExpireAfterDays = None,
    round_to: RoundTo = Rounding.NONE,
    expire_at: ExpireAt = None,
    never_expire: Never = False,
) -> None:
    """Make ASSET a points asset with its expiry policy; add the seed's reason codes.

    Configuring what exists identically (or leaving the options out) changes nothing."""
    with ledger_of(ctx) as ledger:
        policy = _policy(expire_after_days, round_to, expire_at, never_expire)
        made = points.configure(ledger, tenant, asset, scale=scale, expiry=policy)
        output.emit_json(_asset(made))


@points_app.command("set-expiry")
def set_expiry(
    ctx: typer.Context,
    tenant: Tenant,
    asset: AssetOption = DEFAULT_ASSET,
    expire_after_days: ExpireAfterDays = None,
    round_to: RoundTo = Rounding.NONE,
    expire_at: ExpireAt = None,
    never_expire: Never = False,
) -> None:
    """Change a points asset's expiry policy; lots earned before keep theirs."""
    with ledger_of(ctx) as ledger:
        policy = _policy(expire_after_days, round_to, expire_at, never_expire)
        if policy is None:
            raise ValidationError(
                "Say the new policy: --expire-after-days N, --expire-at TIME or --never-expire.",
                field="expiry",
            )
        output.emit_json(_asset(points.update_asset(ledger, tenant, asset, policy)))


@points_app.command("assets")
def list_assets(
    ctx: typer.Context, tenant: Tenant, limit: Limit = PAGE_SIZE_MAX, cursor: Cursor = None
) -> None:
    """The tenant's points assets with their expiry policies, by code, a page at a time."""
    with ledger_of(ctx) as ledger:
        page = points.points_assets_page(ledger, tenant, cursor=cursor, limit=limit)
    output.emit_json({"assets": [_asset(a) for a in page.assets], "next_cursor": page.next_cursor})


def _reason(r: Reason) -> dict[str, Any]:
    return {
        "direction": r.direction.value,
        "dtype": r.code,
        "allow_negative": r.allow_negative,
        "pending_seconds": r.pending_seconds,
        "pending_until_activated": r.pending_until_activated,
        "expiry": None if r.expiry is None else r.expiry.to_json(),
    }


@points_app.command("reasons")
def list_reasons(
    ctx: typer.Context,
    tenant: Tenant,
    direction: Annotated[Direction | None, typer.Option(help="Only earn or spend reasons.")] = None,
    limit: Limit = PAGE_SIZE_MAX,
    cursor: Cursor = None,
) -> None:
    """The tenant's reason codes (dtypes) with their settings, by direction and code."""
    with ledger_of(ctx) as ledger:
        page = points.reasons_page(ledger, tenant, direction=direction, cursor=cursor, limit=limit)
    output.emit_json(
        {"reasons": [_reason(r) for r in page.reasons], "next_cursor": page.next_cursor}
    )


@points_app.command("reason")
def add_reason(
    ctx: typer.Context,
    tenant: Tenant,
    direction: Annotated[Direction, typer.Argument(help="earn or spend")],
    code: Annotated[str, typer.Argument(help="The reason code (dtype).")],
    allow_negative: Annotated[bool, typer.Option(help="A spend may go below zero.")] = False,
    pending_seconds: Annotated[
        int | None, typer.Option(help="Earned points wait this long.")
    ] = None,
    pending_until_activated: Annotated[
        bool, typer.Option(help="Earned points wait until activated or cancelled.")
    ] = False,
    expire_after_days: Annotated[int | None, typer.Option(help="Override the expiry.")] = None,
) -> None:
    """Add (or change) a reason code of the tenant's catalogue."""
    with ledger_of(ctx) as ledger:
        expiry = (
            None
            if expire_after_days is None
            else ExpiryPolicy(ExpiryKind.AFTER, days=expire_after_days)
        )
        reason = Reason(
            direction, code, allow_negative, pending_seconds, pending_until_activated, expiry
        )
        points.add_reason(ledger, tenant, reason)
        output.emit_json({"direction": direction.value, "dtype": code})
