"""The console's points pages: the holders, paged, with their balance per asset; a holder's
balance, lots, expiry forecast, accumulations and redemptions (with their QR codes); and the
merchant's till.

Owns: the till's flow, look up then confirm once. Confirming is ``redemptions.confirm``
(pending -> confirmed, once); a second confirm is its ``already_redeemed``, shown with when
the code was redeemed, never as a success. A holder's redemptions are those its accumulation
rows on the page name (each row of a redemption's spend carries its id).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from rewardledger.domain.errors import AlreadyRedeemed, LedgerError, NotFound
from rewardledger.domain.money import Amount
from rewardledger.domain.paging import encode_cursor
from rewardledger.http.console import charts, session
from rewardledger.http.console.rendering import console_router, form_of, in_thread, page, query
from rewardledger.http.deps import LedgerDep
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points, redemptions

router = console_router()
ACCUMULATIONS_PER_PAGE = 25
FORECAST_BARS_MAX = charts.BARS_MAX
REDEMPTIONS_SHOWN_MAX = 10
HOLDERS_PER_PAGE = 25


def _forecast(ledger: Ledger, tenant_id: str, holder: str) -> dict[str, Any]:
    found = points.expiring(ledger, tenant_id, holder)[:FORECAST_BARS_MAX]
    bars = [(moment.strftime("%Y-%m-%d"), amount.minor, str(amount)) for moment, amount in found]
    description = "; ".join(f"{label}: {text} points" for label, _, text in bars) or "nothing"
    svg = charts.bar_chart(f"Points of {holder} expiring, by date", bars, description)
    return {"rows": found, "svg": Markup(svg)}  # noqa: S704 - drawn by charts, escaped there


def _redemptions(ledger: Ledger, tenant_id: str, ids: list[str]) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for redemption_id in dict.fromkeys(ids):
        try:
            found = redemptions.get(ledger, tenant_id, redemption_id)
        except NotFound:
            continue
        drawn = redemptions.qr_svg(found.code).decode()
        qr = drawn[drawn.index("<svg") :]  # inline: without its XML declaration
        shown.append({"redemption": found, "qr": Markup(qr)})  # noqa: S704 - segno's own SVG
        if len(shown) == REDEMPTIONS_SHOWN_MAX:
            break
    return shown


def _holder_list(ledger: Ledger, tenant_id: str, start: str | None, cursor: str | None) -> Any:
    """A page of holders (asset, then id) with their balance; ``start``: from that id on, in
    the first points asset (the holder itself first when it exists)."""
    lines: list[Any] = []
    if start is not None and cursor is None:
        start = points.check_holder(start)
        assets = sorted(asset.code for asset in points.points_assets(ledger, tenant_id))
        if assets:
            cursor = encode_cursor(assets[0], start)
            if points.store_of(ledger).holder_exists(tenant_id, assets[0], start):
                found = points.balance(ledger, tenant_id, start, asset=assets[0])
                lines.append({"holder": start, "asset": found.asset, "balance": found.balance})
    rows, next_cursor = points.summary_page(
        ledger, tenant_id, limit=HOLDERS_PER_PAGE - len(lines), cursor=cursor
    )
    lines.extend({"holder": r.user_id, "asset": r.asset, "balance": r.balance} for r in rows)
    return {"rows": lines, "next": next_cursor, "start": start}


def _lots(ledger: Ledger, tenant_id: str, rows: list[points.Accumulation]) -> list[dict[str, Any]]:
    """The lots of the earn rows on the page (a lot is named by its earn's id), each read
    with the store's own read of one lot."""
    store = points.store_of(ledger)
    shown: list[dict[str, Any]] = []
    for row in rows:
        lot = store.get_lot(None, tenant_id, row.id) if row.accum_type == "earn" else None
        if lot is not None:
            scale = row.quantity.scale
            earned, remaining = Amount(lot.amount_minor, scale), Amount(lot.remaining_minor, scale)
            shown.append({"lot": lot, "earned": earned, "remaining": remaining})
    return shown


@router.get("/t/{tid}/points")
def holder_page(request: Request, tid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    holder = query(request, "holder")
    if holder is None:
        found = _holder_list(ledger, tid, query(request, "from"), query(request, "cursor"))
        return page(request, "points.html", viewer, holder=None, holders=found)
    balance = points.balance(ledger, tid, holder)
    rows = points.accumulations(
        ledger, tid, holder, limit=ACCUMULATIONS_PER_PAGE, cursor=query(request, "cursor")
    )
    ids = [row.redemption_id for row in rows.rows if row.redemption_id]
    return page(
        request,
        "points.html",
        viewer,
        holder=holder,
        balance=balance,
        forecast=_forecast(ledger, tid, holder),
        accumulations=rows,
        lots=_lots(ledger, tid, rows.rows),
        redemptions=_redemptions(ledger, tid, ids),
    )


@router.get("/t/{tid}/till")
def till(request: Request, tid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "redeem")
    return page(request, "till.html", viewer, found=None, outcome=None, error=None)


@router.post("/t/{tid}/till")
async def till_step(request: Request, tid: str, ledger: LedgerDep) -> Response:
    """``step=look`` shows what a code is for; ``step=confirm`` confirms it, once."""
    form = await form_of(request)
    viewer = await in_thread(session.viewer, request, ledger, tid, "redeem")
    session.check_csrf(request, form)
    code, step = form.get("code", ""), form.get("step", "look")
    found = outcome = error = None
    status = 200
    try:
        if step == "confirm":
            actor = f"key:{viewer.principal.key_id}"
            found = await in_thread(redemptions.confirm, ledger, tid, code, actor=actor)
            outcome = "confirmed"
        else:
            found = await in_thread(redemptions.get_by_code, ledger, tid, code)
    except AlreadyRedeemed as refused:
        found = await in_thread(redemptions.get_by_code, ledger, tid, code)
        outcome, status = "already", 409
        error = refused.message
    except LedgerError as refused:
        error, status = refused.message, 422 if refused.code == "validation_error" else 409
        if isinstance(refused, NotFound):
            status = 404
    return page(
        request,
        "till.html",
        viewer,
        status_code=status,
        found=found,
        outcome=outcome,
        error=error,
        code=code,
    )
