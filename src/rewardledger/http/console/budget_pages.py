"""The console's budget page: used against the caps over the period, reservations, entries,
and the report as CSV or JSON.

Owns: the chart's series, read from the budget's entries of the current period (reserve adds
to used, release takes from it; docs/budgets.md: used = reserved - released), at most
CHART_ENTRIES_MAX of them, the newest; a period with more is drawn from its latest entries and
says so. The report reuses ``budgets.report`` and ``budgets.reports_csv``, as the API does.
"""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.money import Amount
from rewardledger.http.console import charts, session
from rewardledger.http.console.rendering import console_router, page, query
from rewardledger.http.deps import LedgerDep
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets

router = console_router()
ENTRIES_PER_PAGE = 25
CHART_ENTRIES_MAX = 2 * PAGE_SIZE_MAX
RESERVATIONS_SHOWN_MAX = 10
_EFFECT = {"reserve": 1, "release": -1}  # on used; a charge moves reserved to charged
_STATES = {"charge": "charged", "release": "released"}
SOFT_CAP_COLOUR = "#8a5a00"
HARD_CAP_COLOUR = "#a4161a"


def _minor(text: str, scale: int) -> int:
    return Amount.parse(text, scale).minor


def _period_entries(
    ledger: Ledger, tenant_id: str, budget_id: str, period: str
) -> tuple[list[budgets.BudgetEntry], bool]:
    """The period's entries, newest first, at most CHART_ENTRIES_MAX; and whether there were
    more."""
    seen: list[budgets.BudgetEntry] = []
    cursor: str | None = None
    while len(seen) <= CHART_ENTRIES_MAX:
        found = budgets.entries(ledger, tenant_id, budget_id, limit=PAGE_SIZE_MAX, cursor=cursor)
        in_period = [entry for entry in found.entries if entry.period == period]
        seen.extend(in_period)
        if len(in_period) < len(found.entries) or found.next_cursor is None:
            break
        cursor = found.next_cursor
    return seen[:CHART_ENTRIES_MAX], len(seen) > CHART_ENTRIES_MAX


def _running(
    newest_first: list[budgets.BudgetEntry], scale: int, used: int = 0
) -> list[tuple[str, int]]:
    """(label, used after the entry), oldest first, from ``used`` before the first."""
    points: list[tuple[str, int]] = []
    for entry in reversed(newest_first):
        used += _EFFECT.get(entry.entry_type, 0) * _minor(entry.amount, scale)
        points.append((entry.effective_at.strftime("%Y-%m-%d %H:%M"), used))
    return points


def _chart(
    figures: budgets.Utilization, entries: list[budgets.BudgetEntry], scale: int, more: bool
) -> dict[str, Any]:
    lines = [
        charts.Line(f"soft {figures.soft_cap}", _minor(figures.soft_cap, scale), SOFT_CAP_COLOUR),
        charts.Line(f"hard {figures.hard_cap}", _minor(figures.hard_cap, scale), HARD_CAP_COLOUR),
    ]
    shown = (
        f"{figures.used} {figures.currency} used of {figures.hard_cap} (soft cap "
        f"{figures.soft_cap}) in period {figures.period}"
    )
    title = f"Used against the caps, period {figures.period}"
    start = 0
    if more:  # the older entries are left out: start from what they add up to
        effects = sum(_EFFECT.get(e.entry_type, 0) * _minor(e.amount, scale) for e in entries)
        start = _minor(figures.used, scale) - effects
    drawn = charts.step_chart(title, _running(entries, scale, start), lines, shown)
    return {"svg": Markup(drawn), "truncated": more}  # noqa: S704 - escaped by charts


def _reservations(entries: list[budgets.BudgetEntry]) -> list[dict[str, Any]]:
    """The period's latest reservations, their state read from the same entries: a charge or
    a release naming the reserve as its pending transfer resolves it (a release is a void or
    an expiry; the API's GET .../reservations/{ref} tells them apart)."""
    resolved = {entry.pending_id: entry for entry in entries if entry.pending_id}
    found: list[dict[str, Any]] = []
    for entry in entries:
        if entry.entry_type != "reserve":
            continue
        resolution = resolved.get(entry.transfer_id)
        state = "reserved" if resolution is None else _STATES[resolution.entry_type]
        charged = resolution.amount if resolution and state == "charged" else None
        found.append(
            {
                "reference": entry.metadata.get("reference", entry.transfer_id),
                "amount": entry.amount,
                "state": state,
                "charged_amount": charged,
                "created_at": entry.effective_at,
            }
        )
        if len(found) == RESERVATIONS_SHOWN_MAX:
            break
    return found


@router.get("/t/{tid}/budgets/{bid}")
def budget_page(request: Request, tid: str, bid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    policy = budgets.get_budget(ledger, tid, bid)
    figures = budgets.utilization(ledger, tid, bid)
    scale = ledger.get_asset(tid, figures.currency).scale
    in_period, more = _period_entries(ledger, tid, bid, figures.period)
    entries = budgets.entries(
        ledger, tid, bid, limit=ENTRIES_PER_PAGE, cursor=query(request, "cursor")
    )
    return page(
        request,
        "budget.html",
        viewer,
        policy=policy,
        figures=figures,
        chart=_chart(figures, in_period, scale, more),
        entries=entries,
        reservations=_reservations(in_period),
        alerts=budgets.alerts(ledger, tid, budget_id=bid, limit=5),
    )


@router.get("/t/{tid}/budgets/{bid}/report.csv")
def report_csv(request: Request, tid: str, bid: str, ledger: LedgerDep) -> Response:
    session.viewer(request, ledger, tid, "read")
    found = budgets.report(ledger, tid, bid, range_name=query(request, "range"))
    return Response(
        budgets.reports_csv([found]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="budget-{bid}-report.csv"'},
    )


@router.get("/t/{tid}/budgets/{bid}/report.json")
def report_json(request: Request, tid: str, bid: str, ledger: LedgerDep) -> Response:
    session.viewer(request, ledger, tid, "read")
    found = budgets.report(ledger, tid, bid, range_name=query(request, "range"))
    return JSONResponse(
        jsonable_encoder(found),
        headers={"Content-Disposition": f'attachment; filename="budget-{bid}-report.json"'},
    )
