"""The console's cycle pages: the cashback and debt ledgers, filtered and paged, their CSV,
and a chart of debt by status per cycle.

Owns: presenting the rows in the seeds' columns and enums, through the API's own row shapes
(``CashbackLedgerPublic``, ``DebtLedgerPublic``) and CSV columns, so the console, the API and
its CSV can never name a column differently. The chart sums ``net_debt`` by status per cycle
over at most CHART_ROWS_MAX rows (the first, in the ledger's order); more says so.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from rewardledger.domain.cycles import LedgerFilter
from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.money import format_minor
from rewardledger.http.console import charts, session
from rewardledger.http.console.rendering import console_router, keep, page, query
from rewardledger.http.csv_export import csv_response
from rewardledger.http.deps import LedgerDep
from rewardledger.http.schemas_cycles import (
    CASHBACK_CSV_COLUMNS,
    DEBT_CSV_COLUMNS,
    CashbackLedgerPublic,
    DebtLedgerPublic,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt

router = console_router()
ROWS_PER_PAGE = 25
CHART_ROWS_MAX = 2000
CASHBACK_STATUSES = ("open", "closed")
ELIGIBILITIES = ("eligible", "not_eligible", "reached_cap", "pending")
DEBT_STATUSES = ("open", "partial", "repaid", "overdue")
LEDGERS = ("cashback", "debt")


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = query(request, name)
    if value is not None and value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}.", field=name)
    return value


def _where(request: Request, ledger_name: str) -> tuple[LedgerFilter, dict[str, str]]:
    holder, cycle = query(request, "holder"), query(request, "cycle")
    if ledger_name == "cashback":
        status = _choice(request, "status", CASHBACK_STATUSES)
        eligibility = _choice(request, "eligibility", ELIGIBILITIES)
    else:
        status, eligibility = _choice(request, "status", DEBT_STATUSES), None
    filters = {"holder": holder, "cycle": cycle, "status": status, "eligibility": eligibility}
    return LedgerFilter(holder, cycle, status, eligibility), keep(filters)


def _scale(ledger: Ledger, tenant_id: str, ledger_name: str) -> int:
    program = cashback.get_program if ledger_name == "cashback" else debt.get_program
    return ledger.get_asset(tenant_id, program(ledger, tenant_id).currency).scale


def _presenter(tenant_id: str, ledger_name: str, scale: int) -> Any:
    if ledger_name == "cashback":
        return lambda row, at: CashbackLedgerPublic.of(tenant_id, row, at, scale)
    return lambda row, at: DebtLedgerPublic.of(tenant_id, row, at, scale)


def _debt_chart(ledger: Ledger, tenant_id: str, scale: int) -> dict[str, Any]:
    sums, counted = cycles.debt_by_status(ledger, tenant_id, CHART_ROWS_MAX)
    stacks = [(tag, parts) for tag, parts in sorted(sums.items())][-charts.BARS_MAX :]
    description = "; ".join(
        f"{tag}: " + ", ".join(f"{s} {format_minor(m, scale)}" for s, m in parts.items())
        for tag, parts in stacks
    )
    svg = charts.stacked_chart(
        "Net debt by status per cycle",
        stacks,
        description,
        shown=lambda minor: format_minor(minor, scale),
    )
    return {"svg": Markup(svg), "truncated": counted == CHART_ROWS_MAX}  # noqa: S704


@router.get("/t/{tid}/cycles/{name}")
def cycle_ledger(request: Request, tid: str, name: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    if name not in LEDGERS:
        raise NotFound("cycle ledger", name)
    where, filters = _where(request, name)
    scale = _scale(ledger, tid, name)
    list_page = cycles.list_cashback_ledger if name == "cashback" else cycles.list_debt_ledger
    found = list_page(ledger, tid, where, cursor=query(request, "cursor"), limit=ROWS_PER_PAGE)
    present = _presenter(tid, name, scale)
    columns = CASHBACK_CSV_COLUMNS if name == "cashback" else DEBT_CSV_COLUMNS
    return page(
        request,
        "cycles.html",
        viewer,
        name=name,
        columns=columns,
        rows=[present(row, at).model_dump(mode="json") for row, at in found.rows],
        next_cursor=found.next_cursor,
        filters=filters,
        statuses=CASHBACK_STATUSES if name == "cashback" else DEBT_STATUSES,
        eligibilities=ELIGIBILITIES,
        chart=_debt_chart(ledger, tid, scale) if name == "debt" else None,
    )


@router.get("/t/{tid}/cycles/{name}/export.csv")
def cycle_ledger_csv(request: Request, tid: str, name: str, ledger: LedgerDep) -> Response:
    session.viewer(request, ledger, tid, "read")
    if name not in LEDGERS:
        raise NotFound("cycle ledger", name)
    where, _ = _where(request, name)
    present = _presenter(tid, name, _scale(ledger, tid, name))
    every = cycles.every_cashback_row if name == "cashback" else cycles.every_debt_row
    records = (present(row, at).model_dump(mode="json") for row, at in every(ledger, tid, where))
    columns = CASHBACK_CSV_COLUMNS if name == "cashback" else DEBT_CSV_COLUMNS
    return csv_response(columns, records, f"{name}_ledger.csv")
