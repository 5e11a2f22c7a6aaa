"""Campaign budgets: create, read, top up, reserve, charge, release, correct; utilization,
reconciliation, reports (JSON or CSV), ledger entries and alerts.

Roles: defining a budget and correcting one are ``admin``; moving money is ``write``; reading,
reconciling and reporting are ``read``. A write's first result is 201; a replay (same
idempotency key or reservation reference) is 200 with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from pydantic import BaseModel

from rewardledger.domain.budgets.reports import RANGES
from rewardledger.domain.limits import (
    BUDGET_ID_LENGTH_MAX,
    BUDGET_REFERENCE_LENGTH_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
)
from rewardledger.domain.paging import decode_cursor, encode_cursor
from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin, Writer
from rewardledger.http.fields import id_query
from rewardledger.http.idempotency import key_of, mark_replay
from rewardledger.http.keyed_writes import keyed
from rewardledger.http.problems import tenant_route_problems
from rewardledger.http.routes.lists import FIRST_LARGE_PAGE, LargePagingQuery
from rewardledger.http.schemas import OPAQUE_CURSOR_PATTERN
from rewardledger.http.schemas_budgets import (
    BUDGET_ID_PATH_PATTERN,
    REFERENCE_PATH_PATTERN,
    AlertsPublic,
    BudgetCreate,
    BudgetListPublic,
    BudgetPublic,
    BudgetReconciliationPublic,
    BudgetReportPublic,
    ChargeCreate,
    CorrectionCreate,
    CorrectionPublic,
    EntriesPublic,
    ReleaseCreate,
    ReservationCreate,
    ReservationPublic,
    TenantReconciliationPublic,
    TenantReportPublic,
    TopupCreate,
    TopupPublic,
    UtilizationPublic,
)
from rewardledger.services import budgets

router = APIRouter(tags=["budgets"])

BudgetIdPath = Annotated[str, Path(max_length=BUDGET_ID_LENGTH_MAX, pattern=BUDGET_ID_PATH_PATTERN)]
# The budget lists' query: a budget id (a filter, or a page's start), a page's size and cursor.
BudgetIdQuery = Annotated[str | None, id_query(BUDGET_ID_PATH_PATTERN, BUDGET_ID_LENGTH_MAX)]
PageLimit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)]
PageCursor = Annotated[
    str | None, Query(pattern=OPAQUE_CURSOR_PATTERN, description="next_cursor of a page.")
]
ReferencePath = Annotated[
    str, Path(max_length=BUDGET_REFERENCE_LENGTH_MAX, pattern=REFERENCE_PATH_PATTERN)
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=BUDGET_REFERENCE_LENGTH_MAX,
        pattern=REFERENCE_PATH_PATTERN,
    ),
]
RangeQuery = Annotated[
    str | None,
    Query(
        alias="range",
        max_length=16,
        description="today, week, month, quarter or year",
        json_schema_extra={"enum": list(RANGES)},
    ),
]
# A date in the years the ledger takes (domain.limits.TIME_YEAR_MIN..TIME_YEAR_MAX).
DATE_PATTERN = r"^(19[0-9]{2}|[2-8][0-9]{3}|9000)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _date_query(alias: str) -> Any:
    """The query parameter ``alias``: one end of a date window, YYYY-MM-DD."""
    return Query(
        alias=alias,
        max_length=10,
        description="YYYY-MM-DD",
        json_schema_extra={"pattern": DATE_PATTERN},
    )


FromQuery = Annotated[str | None, _date_query("from")]
ToQuery = Annotated[str | None, _date_query("to")]
FormatQuery = Annotated[str, Query(alias="format", pattern="^(json|csv)$")]


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A report's window (``range`` or ``from``/``to``) and its ``format``, from the query."""

    range_name: str | None
    date_from: str | None
    date_to: str | None
    output: str

    @property
    def window(self) -> dict[str, str | None]:
        return {"range_name": self.range_name, "date_from": self.date_from, "date_to": self.date_to}


def _report_query(
    range_name: RangeQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    output: FormatQuery = "json",
) -> ReportQuery:
    return ReportQuery(range_name, date_from, date_to, output)


ReportQueryDep = Annotated[ReportQuery, Depends(_report_query)]

_READ = tenant_route_problems()
_WRITE = tenant_route_problems(
    "idempotency_conflict",
    "already_exists",
    "insufficient_funds",
    "currency_mismatch",
    "hard_cap_exceeded",
    "member_cap_exceeded",
    "already_charged",
    "not_pending",
    "exceeds_pending_amount",
    "busy",
)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
NEXT_CURSOR_HEADER = "Next-Cursor"


def _key(body_key: str | None, header: str | None, *, required: bool) -> str | None:
    return key_of(header, {"idempotency_key": body_key}, required=required) or None


def _required_key(body_key: str | None, header: str | None) -> str:
    return key_of(header, {"idempotency_key": body_key})


class _Written(Protocol):
    @property
    def replayed(self) -> bool: ...


Public = TypeVar("Public", bound=BaseModel)


def _written(response: Response, view: _Written, public: type[Public]) -> Public:
    """A write's answer: 201 the first time, 200 with ``Idempotent-Replayed`` on a replay."""
    mark_replay(response, view.replayed)
    return public.model_validate(view)


@router.post("/tenants/{tid}/budgets", status_code=201, responses=_WRITE)
def create_budget(
    body: BudgetCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKey = None,
) -> BudgetPublic:
    """Define a budget (admin). Sending the same definition again returns it; under an
    ``Idempotency-Key``, another definition is ``idempotency_conflict``."""

    def write() -> BudgetPublic:
        policy = budgets.create_budget(
            ledger,
            principal.tenant_id,
            body.id,
            currency=body.currency,
            hard_cap=body.hard_cap,
            soft_cap=body.soft_cap,
            name=body.name,
            alert_thresholds=tuple(body.alert_thresholds),
            period=body.period,
            rollover=body.rollover,
            member_cap_amount=body.member_cap_amount,
            member_cap_count=body.member_cap_count,
            funding=body.funding,
        )
        return BudgetPublic.of(policy)

    return keyed(
        ledger,
        principal.tenant_id,
        response,
        operation="POST /budgets",
        header=idempotency_key,
        body=body,
        public=BudgetPublic,
        write=write,
    )


@router.get("/tenants/{tid}/budgets", responses=_READ)
def list_budgets(
    ledger: LedgerDep,
    principal: Reader,
    after: BudgetIdQuery = None,
    limit: PageLimit = PAGE_SIZE_DEFAULT,
    cursor: PageCursor = None,
) -> BudgetListPublic:
    """The tenant's budgets by id, a page at a time (``after``, a budget id, is deprecated)."""
    if cursor is not None:
        (after_id,) = decode_cursor(cursor, str)
        after = str(after_id)
    found = budgets.list_budgets(ledger, principal.tenant_id, after=after, limit=limit)
    last = found[-1].id if len(found) == limit else None
    return BudgetListPublic(
        budgets=[BudgetPublic.of(p) for p in found],
        next_cursor=None if last is None else encode_cursor(last),
        next_after=last,
    )


@router.get("/tenants/{tid}/budgets/{bid}", responses=_READ)
def get_budget(bid: BudgetIdPath, ledger: LedgerDep, principal: Reader) -> BudgetPublic:
    """A budget's definition and its current period's figures."""
    return BudgetPublic.of(budgets.get_budget(ledger, principal.tenant_id, bid))


@router.post("/tenants/{tid}/budgets/{bid}/topup", status_code=201, responses=_WRITE)
def topup(
    bid: BudgetIdPath,
    body: TopupCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> TopupPublic:
    """Add funds to the budget's current period."""
    key = _required_key(body.idempotency_key, idempotency_key)
    result = budgets.topup(
        ledger,
        principal.tenant_id,
        bid,
        amount=body.amount,
        currency=body.currency,
        idempotency_key=key,
    )
    return _written(response, result, TopupPublic)


@router.post("/tenants/{tid}/budgets/{bid}/reservations", status_code=201, responses=_WRITE)
def reserve(
    bid: BudgetIdPath,
    body: ReservationCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> ReservationPublic:
    """Reserve an amount for a reward issuance (the reference is the idempotency key)."""
    sent = {"reference": body.reference, "idempotency_key": body.idempotency_key}
    view = budgets.reserve(
        ledger,
        principal.tenant_id,
        bid,
        reference=key_of(idempotency_key, sent),
        amount=body.amount,
        currency=body.currency,
        member_key=body.member_key,
        timeout_seconds=body.timeout_seconds,
    )
    return _written(response, view, ReservationPublic)


@router.post(
    "/tenants/{tid}/budgets/{bid}/reservations/{ref}/charge", status_code=201, responses=_WRITE
)
def charge(
    bid: BudgetIdPath,
    ref: ReferencePath,
    body: ChargeCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> ReservationPublic:
    """Charge the reservation on redemption, in full or for less."""
    view = budgets.charge(
        ledger,
        principal.tenant_id,
        bid,
        ref,
        amount=body.amount,
        idempotency_key=_key(body.idempotency_key, idempotency_key, required=False),
    )
    return _written(response, view, ReservationPublic)


@router.post(
    "/tenants/{tid}/budgets/{bid}/reservations/{ref}/release", status_code=201, responses=_WRITE
)
def release(
    bid: BudgetIdPath,
    ref: ReferencePath,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    body: Annotated[ReleaseCreate | None, Body()] = None,
) -> ReservationPublic:
    """Release the reservation (on expiry or cancellation); the body is optional (``{}``)."""
    view = budgets.release(ledger, principal.tenant_id, bid, ref)
    return _written(response, view, ReservationPublic)


@router.post("/tenants/{tid}/budgets/{bid}/corrections", status_code=201, responses=_WRITE)
def correct(
    bid: BudgetIdPath,
    body: CorrectionCreate,
    response: Response,
    ledger: LedgerDep,
    principal: TenantAdmin,
    idempotency_key: IdempotencyKey = None,
) -> CorrectionPublic:
    """Reverse a top-up or a charge (admin), with a mandatory note; recorded with who did it."""
    key = _required_key(body.idempotency_key, idempotency_key)
    view = budgets.correct(
        ledger,
        principal.tenant_id,
        bid,
        reverses=body.reverses,
        amount=body.amount,
        note=body.note,
        actor=f"key:{principal.key_id}",
        idempotency_key=key,
    )
    return _written(response, view, CorrectionPublic)


@router.get("/tenants/{tid}/budgets/{bid}/utilization", responses=_READ)
def utilization(
    bid: BudgetIdPath,
    ledger: LedgerDep,
    principal: Reader,
    period: Annotated[str | None, Query(max_length=16)] = None,
) -> UtilizationPublic:
    """The current period's figures (or ``period``'s, such as 2026-03)."""
    view = budgets.utilization(ledger, principal.tenant_id, bid, period=period)
    return UtilizationPublic.model_validate(view)


@router.post("/tenants/{tid}/budgets/{bid}/reconcile", responses=_READ)
def reconcile(
    bid: BudgetIdPath, ledger: LedgerDep, principal: Reader
) -> BudgetReconciliationPublic:
    """Check the budget's figures against the journal; list every discrepancy."""
    return BudgetReconciliationPublic.model_validate(
        budgets.reconcile(ledger, principal.tenant_id, bid)
    )


@router.post("/tenants/{tid}/reconcile", responses=_READ)
def reconcile_tenant(ledger: LedgerDep, principal: Reader) -> TenantReconciliationPublic:
    """Reconcile every budget of the tenant; a summary and each budget's result."""
    return TenantReconciliationPublic.model_validate(
        budgets.reconcile_tenant(ledger, principal.tenant_id)
    )


@router.get(
    "/tenants/{tid}/budgets/{bid}/report",
    responses={**_READ, 200: {"content": {"text/csv": {}}}},
    response_model=BudgetReportPublic,
)
def report(
    bid: BudgetIdPath, ledger: LedgerDep, principal: Reader, query: ReportQueryDep
) -> BudgetReportPublic | Response:
    """Totals by entry type, counts and utilization over a range or dates; JSON or CSV."""
    found = budgets.report(ledger, principal.tenant_id, bid, **query.window)
    if query.output == "csv":
        return Response(budgets.reports_csv([found]), media_type=CSV_MEDIA_TYPE)
    return BudgetReportPublic.model_validate(found)


@router.get(
    "/tenants/{tid}/reports/budgets",
    responses={**_READ, 200: {"content": {"text/csv": {}}}},
    response_model=TenantReportPublic,
)
def tenant_report(
    ledger: LedgerDep,
    principal: Reader,
    query: ReportQueryDep,
    paging: LargePagingQuery = FIRST_LARGE_PAGE,
) -> TenantReportPublic | Response:
    """Every budget's report by budget id, a page at a time, as JSON or as CSV (one row per
    budget; the next page's cursor in the ``Next-Cursor`` header)."""
    page = budgets.tenant_report_page(
        ledger, principal.tenant_id, **query.window, cursor=paging.cursor, limit=paging.limit
    )
    if query.output == "csv":
        more = {} if page.next_cursor is None else {NEXT_CURSOR_HEADER: page.next_cursor}
        return Response(budgets.reports_csv(page.reports), media_type=CSV_MEDIA_TYPE, headers=more)
    return TenantReportPublic.of(page)


@router.get("/tenants/{tid}/budgets/{bid}/entries", responses=_READ)
def entries(
    bid: BudgetIdPath,
    ledger: LedgerDep,
    principal: Reader,
    limit: PageLimit = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> EntriesPublic:
    """The budget's journal entries, newest first, created from ``from`` to ``to`` (dates on
    the tenant's calendar, both included, each optional); pass ``next_cursor`` back for the
    next page."""
    page = budgets.entries(
        ledger,
        principal.tenant_id,
        bid,
        limit=limit,
        cursor=cursor,
        date_from=date_from,
        date_to=date_to,
    )
    return EntriesPublic.model_validate(page)


@router.get("/tenants/{tid}/alerts", responses=_READ)
def alerts(
    ledger: LedgerDep,
    principal: Reader,
    budget_id: BudgetIdQuery = None,
    limit: PageLimit = PAGE_SIZE_DEFAULT,
    cursor: PageCursor = None,
) -> AlertsPublic:
    """Budget alerts, newest first, a page at a time."""
    page = budgets.alerts_page(
        ledger, principal.tenant_id, budget_id=budget_id, cursor=cursor, limit=limit
    )
    return AlertsPublic.of(page)
