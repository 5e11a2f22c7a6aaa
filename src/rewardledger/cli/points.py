"""``rewardledger points ...`` and ``rewardledger redemption ...`` (issue 4).

Thin: parse, call one service function, print JSON (amounts as decimal strings). Errors come
out as ``error <code>: <message>`` with exit code 1 (2 for a validation error).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from rewardledger.cli import output
from rewardledger.cli.context import (
    Cursor,
    Limit,
    Tenant,
    ledger_of,
    os_user,
    parse_time,
    reporting_errors,
)
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import (
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    POINTS_FORECAST_DATES_MAX,
    REDEMPTION_TTL_SECONDS_DEFAULT,
)
from rewardledger.services import points, redemptions
from rewardledger.services.points import (
    DEFAULT_ASSET,
    HolderIntegrity,
    PointsBalance,
    PointsMovement,
)
from rewardledger.services.redemptions import Redemption

points_app: typer.Typer = typer.Typer(
    help="Points wallets: earn, spend, balances, accumulations, expiry, import.",
    no_args_is_help=True,
)
redemption_app: typer.Typer = typer.Typer(
    help="Redemptions: create (spends points), confirm a code, cancel, QR images.",
    no_args_is_help=True,
)

AssetOption = Annotated[str, typer.Option("--asset", help="The points asset.")]
Reference = Annotated[
    str, typer.Option("--reference", "-r", help="Your id for this write (idempotency key).")
]
Dtype = Annotated[str, typer.Option("--dtype", help="The reason code (the seed's dtype).")]
Holder = Annotated[str, typer.Argument(help="The holder (user_id).")]
RedemptionId = Annotated[str, typer.Argument()]


def _movement(m: PointsMovement) -> dict[str, Any]:
    return {
        "id": m.id,
        "user_id": m.holder_id,
        "asset": m.asset,
        "accum_type": m.accum_type,
        "dtype": m.dtype,
        "quantity": str(m.quantity),
        "pending": m.pending,
        "negative_allowed": m.negative_allowed,
        "lots": [{"lot_id": lot, "amount": str(a)} for lot, a in m.lots],
        "replayed": m.replayed,
    }


def _balance(b: PointsBalance) -> dict[str, Any]:
    return {
        "user_id": b.holder_id,
        "asset": b.asset,
        "balance": str(b.balance),
        "available": str(b.available),
        "pending": str(b.pending),
        "latest_update": None if b.latest_update is None else b.latest_update.isoformat(),
        "as_of": None if b.as_of is None else b.as_of.isoformat(),
    }


def _summary(line: HolderIntegrity) -> dict[str, Any]:
    return {
        "user_id": line.user_id,
        "asset": line.asset,
        "earned": str(line.earned),
        "spent": str(line.spent),
        "expired": str(line.expired),
        "balance": str(line.balance),
        "ledger_balance": str(line.ledger_balance),
        "lots_balance": str(line.lots_balance),
        "rows": line.rows,
        "integrity_status": line.integrity_status,
    }


def _redemption(r: Redemption) -> dict[str, Any]:
    return {
        "redemption_id": r.redemption_id,
        "code": r.code,
        "user_id": r.holder_id,
        "asset": r.asset,
        "offer_id": r.offer_id,
        "cost": str(r.cost),
        "state": r.state.value,
        "created_at": r.created_at.isoformat(),
        "expires_at": r.expires_at.isoformat(),
        "resolved_at": None if r.resolved_at is None else r.resolved_at.isoformat(),
        "resolved_by": r.resolved_by,
        "refunded": str(r.refunded),
        "forfeited": str(r.forfeited),
    }


# Points -------------------------------------------------------------------------------------


def _movement_command(name: str, move: Callable[..., PointsMovement], doc: str) -> Any:
    """``points earn`` and ``points spend``: the same arguments, one service call each."""

    def command(
        ctx: typer.Context,
        tenant: Tenant,
        holder: Holder,
        amount: Annotated[str, typer.Argument(help="Points, a positive decimal string.")],
        dtype: Dtype,
        reference: Reference,
        asset: AssetOption = DEFAULT_ASSET,
    ) -> None:
        with ledger_of(ctx) as ledger:
            moved = move(
                ledger, tenant, holder, amount, dtype=dtype, reference=reference, asset=asset
            )
            output.emit_json(_movement(moved))

    command.__doc__ = doc
    command.__name__ = command.__qualname__ = name
    return points_app.command(name)(command)


earn = _movement_command("earn", points.earn, "Credit points to HOLDER as a new lot.")
spend = _movement_command(
    "spend", points.spend, "Debit points from HOLDER, soonest-expiring lots first."
)


@points_app.command("activate")
def activate(
    ctx: typer.Context,
    tenant: Tenant,
    reference: Annotated[str, typer.Argument(help="The reference of the pending earn.")],
    cancel: Annotated[bool, typer.Option(help="Cancel the pending points instead.")] = False,
) -> None:
    """Activate pending points (or cancel them with --cancel)."""
    with ledger_of(ctx) as ledger:
        resolve = points.cancel_pending if cancel else points.activate
        output.emit_json(_movement(resolve(ledger, tenant, reference)))


@points_app.command("balance")
def balance(
    ctx: typer.Context,
    tenant: Tenant,
    holder: Holder,
    asset: AssetOption = DEFAULT_ASSET,
    at: Annotated[str | None, typer.Option(help="A past time: the balance then.")] = None,
) -> None:
    """The holder's balance (available, pending, last update)."""
    with ledger_of(ctx) as ledger:
        view = points.balance(ledger, tenant, holder, asset=asset, at=parse_time(at, "at"))
        output.emit_json(_balance(view))


@points_app.command("accumulations")
def accumulations(
    ctx: typer.Context,
    tenant: Tenant,
    holder: Holder,
    asset: AssetOption = DEFAULT_ASSET,
    accum_type: Annotated[str | None, typer.Option(help="earn, spend or expire")] = None,
    since: Annotated[str | None, typer.Option("--from", help="From this time.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Before this time.")] = None,
    limit: Annotated[int, typer.Option(help="Rows per page.")] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the last page.")] = None,
) -> None:
    """The holder's rows in the seed's fact_accumulations shape, newest first."""
    with ledger_of(ctx) as ledger:
        page = points.accumulations(
            ledger,
            tenant,
            holder,
            asset=asset,
            accum_type=accum_type,
            since=parse_time(since, "from"),
            until=parse_time(until, "to"),
            limit=limit,
            cursor=cursor,
        )
        output.emit_json(
            {
                "user_id": page.holder_id,
                "accumulations": [
                    {
                        "id": r.id,
                        "user_id": r.user_id,
                        "accum_type": r.accum_type,
                        "dtype": r.dtype,
                        "quantity": str(r.quantity),
                        "balance": str(r.balance),
                        "date": r.date.isoformat(),
                        "redemption_id": r.redemption_id,
                        "negative_allowed": r.negative_allowed,
                    }
                    for r in page.rows
                ],
                "next_cursor": page.next_cursor,
            }
        )


@points_app.command("expiring")
def expiring(
    ctx: typer.Context,
    tenant: Tenant,
    holder: Holder,
    asset: AssetOption = DEFAULT_ASSET,
    limit: Limit = POINTS_FORECAST_DATES_MAX,
    cursor: Cursor = None,
) -> None:
    """What will expire on which dates, if not spent first, soonest first, a page at a time."""
    with ledger_of(ctx) as ledger:
        page = points.expiring_page(ledger, tenant, holder, asset=asset, cursor=cursor, limit=limit)
    forecast = [{"expires_at": d.isoformat(), "amount": str(a)} for d, a in page.expiring]
    output.emit_json({"user_id": holder, "expiring": forecast, "next_cursor": page.next_cursor})


@points_app.command("summary")
def summary(
    ctx: typer.Context, tenant: Tenant, limit: Limit = PAGE_SIZE_MAX, cursor: Cursor = None
) -> None:
    """Per holder: earned, spent, expired, balance, rows, integrity (v_ledger_summary), by
    asset and holder, a page at a time."""
    with ledger_of(ctx) as ledger:
        lines, next_cursor = points.summary_page(ledger, tenant, limit=limit, cursor=cursor)
    output.emit_json({"holders": [_summary(x) for x in lines], "next_cursor": next_cursor})


@points_app.command("validate")
def validate(
    ctx: typer.Context,
    tenant: Tenant,
    status: Annotated[
        str, typer.Option(help="MISMATCH: the holders that differ; OK: the others.")
    ] = "MISMATCH",
    limit: Limit = PAGE_SIZE_MAX,
    cursor: Cursor = None,
) -> None:
    """Holders whose balance differs from their rows or lots, a page at a time; exit 1 if
    this page lists any that differ."""
    with ledger_of(ctx) as ledger:
        page = points.integrity_page(ledger, tenant, status=status, cursor=cursor, limit=limit)
    lines = [_summary(x) for x in page.holders]
    output.emit_json({"holders": lines, "next_cursor": page.next_cursor})
    if any(x.integrity_status != "OK" for x in page.holders):
        raise typer.Exit(1)


@points_app.command("fix")
def fix(ctx: typer.Context, tenant: Tenant) -> None:
    """Rebuild balances from the rows, recording every change (fix_balance_discrepancies)."""
    with ledger_of(ctx) as ledger:
        report = points.fix(ledger, tenant, actor=os_user())
        output.emit_json(
            {
                "repair_id": report.repair.repair_id,
                "changes": report.repair.change_count,
                "still_mismatched": [_summary(x) for x in report.still_mismatched],
            }
        )


def _rows_in(file: Path) -> int:
    """The rows of a history file, for the progress bar's total and time left: its non-empty
    lines, less the header of a CSV file (a quoted field over several lines counts more)."""
    lines, first = 0, b""
    with file.open("rb") as raw:
        for line in raw:
            if line.strip():
                first = first or line
                lines += 1
    return lines if first.lstrip().startswith(b"{") else max(lines - 1, 0)


@points_app.command("import")
def import_file(
    ctx: typer.Context,
    tenant: Tenant,
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or JSON lines.", exists=True)],
    asset: AssetOption = DEFAULT_ASSET,
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Load the good rows of a batch that has bad ones.")
    ] = False,
) -> None:
    """Load a points history (user, accum_type, dtype, quantity, date, redemption_id).

    Idempotent: running it again imports nothing new. Exit 1 if any row was bad.
    """
    with ledger_of(ctx) as ledger, output.progress() as bar, file.open(encoding="utf-8") as stream:
        task = bar.add_task(f"import {file.name}", total=_rows_in(file), unit="rows")
        report = points.import_history(
            ledger,
            tenant,
            stream,
            asset=asset,
            skip_bad_rows=skip_bad_rows,
            on_rows=output.advancer(bar, task),
        )
    output.emit_json(
        {
            "rows_read": report.rows_read,
            "imported": report.imported,
            "already_present": report.already_present,
            "bad_rows": report.bad_rows,
            "batches_skipped": report.batches_skipped,
            "bad": [{"line": b.line, "message": b.message} for b in report.bad],
        }
    )
    if report.bad_rows:
        raise typer.Exit(1)


# Redemptions ---------------------------------------------------------------------------------


@redemption_app.command("create")
def redemption_create(
    ctx: typer.Context,
    tenant: Tenant,
    holder: Holder,
    offer_id: Annotated[str, typer.Option(help="The offer.")],
    cost: Annotated[str, typer.Option(help="Points it costs.")],
    reference: Reference,
    asset: AssetOption = DEFAULT_ASSET,
    ttl_seconds: Annotated[int, typer.Option(help="Time to live.")] = (
        REDEMPTION_TTL_SECONDS_DEFAULT
    ),
) -> None:
    """Spend COST points of HOLDER for an offer and print its code."""
    with ledger_of(ctx) as ledger:
        made = redemptions.create(
            ledger,
            tenant,
            holder,
            offer_id=offer_id,
            cost=cost,
            reference=reference,
            asset=asset,
            ttl_seconds=ttl_seconds,
        )
        output.emit_json(_redemption(made))


@redemption_app.command("show")
def redemption_show(ctx: typer.Context, tenant: Tenant, redemption_id: RedemptionId) -> None:
    """A redemption and its state."""
    with ledger_of(ctx) as ledger:
        output.emit_json(_redemption(redemptions.get(ledger, tenant, redemption_id)))


@redemption_app.command("qr")
def redemption_qr(
    ctx: typer.Context,
    tenant: Tenant,
    redemption_id: RedemptionId,
    out: Annotated[Path, typer.Option(help="Write the image here (.png or .svg).")],
) -> None:
    """Write the redemption's code as a QR image."""
    with ledger_of(ctx) as ledger:
        found = redemptions.get(ledger, tenant, redemption_id)
    with reporting_errors():
        if out.suffix not in (".png", ".svg"):
            raise ValidationError("--out must end in .png or .svg.", field="out")
        image = (
            redemptions.qr_png(found.code)
            if out.suffix == ".png"
            else redemptions.qr_svg(found.code)
        )
        out.write_bytes(image)
    output.emit_json({"redemption_id": redemption_id, "file": str(out)})


@redemption_app.command("confirm")
def redemption_confirm(
    ctx: typer.Context, tenant: Tenant, code: Annotated[str, typer.Argument()]
) -> None:
    """Validate a code at a till (once)."""
    with ledger_of(ctx) as ledger:
        output.emit_json(_redemption(redemptions.confirm(ledger, tenant, code, actor=os_user())))


@redemption_app.command("cancel")
def redemption_cancel(ctx: typer.Context, tenant: Tenant, redemption_id: RedemptionId) -> None:
    """Cancel a pending redemption; its points go back to their lots."""
    with ledger_of(ctx) as ledger:
        output.emit_json(
            _redemption(redemptions.cancel(ledger, tenant, redemption_id, actor=os_user()))
        )
