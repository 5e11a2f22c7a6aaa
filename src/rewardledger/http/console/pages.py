"""The console's sign-in, overview (budgets, alerts, integrity, due jobs, delivery health) and
alert history.

Owns: those pages' reads, each a call into the services (never into the /v1 routes). A
merchant is sent to the till; a reader sees no button that writes or repairs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rewardledger.domain.access import Principal, Role
from rewardledger.domain.errors import Unauthorized, ValidationError
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.events import webhooks
from rewardledger.http.console import session, webhook_pages
from rewardledger.http.console.rendering import (
    PREFIX,
    console_router,
    form_of,
    in_thread,
    keep,
    page,
    query,
)
from rewardledger.http.deps import LedgerDep
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, jobs

router = console_router()
BUDGETS_PER_PAGE = 20
ALERTS_SHOWN_MAX = 20
ENDPOINTS_SHOWN_MAX = 10


def home_of(viewer: Principal) -> str:
    if viewer.role is Role.MERCHANT:
        return f"{PREFIX}/t/{viewer.tenant_id}/till"
    return f"{PREFIX}/t/{viewer.tenant_id}"


@router.get("")
def console_home(request: Request, ledger: LedgerDep) -> Response:
    principal = session.signed_in(request, ledger)
    if principal is None:
        return RedirectResponse(f"{PREFIX}/signin", status_code=303)
    return RedirectResponse(home_of(principal), status_code=303)


@router.get("/signin")
def signin_form(request: Request) -> Response:
    return page(request, "signin.html", None, csrf=session.csrf_token(request), error=None)


@router.post("/signin")
async def signin(request: Request, ledger: LedgerDep) -> Response:
    form = await form_of(request)
    session.check_csrf(request, form)
    try:
        principal = await in_thread(session.sign_in, request, ledger, form.get("key", ""))
    except Unauthorized as error:
        return page(
            request,
            "signin.html",
            None,
            status_code=401,
            csrf=session.csrf_token(request),
            error=error.message,
        )
    return RedirectResponse(home_of(principal), status_code=303)


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await form_of(request)
    session.check_csrf(request, form)
    session.sign_out(request)
    return RedirectResponse(f"{PREFIX}/signin", status_code=303)


def _budget_rows(ledger: Ledger, tenant_id: str, after: str | None) -> dict[str, Any]:
    found = budgets.list_budgets(ledger, tenant_id, after=after, limit=BUDGETS_PER_PAGE + 1)
    shown = found[:BUDGETS_PER_PAGE]
    rows = [budgets.utilization(ledger, tenant_id, policy.id) for policy in shown]
    more = len(found) > BUDGETS_PER_PAGE
    return {"rows": rows, "next": shown[-1].id if more and shown else None}


def _overview(ledger: Ledger, tenant_id: str, after: str | None) -> dict[str, Any]:
    """What the overview shows: budgets, alerts, due-job failures, and the delivery health of
    the first page of webhook endpoints and of the relay sinks (from the same failures)."""
    failures = jobs.failures(ledger, tenant_id)
    shown = webhooks.list_endpoints(ledger, tenant_id, limit=ENDPOINTS_SHOWN_MAX).endpoints
    return {
        "budgets": _budget_rows(ledger, tenant_id, after),
        "alerts": budgets.alerts(ledger, tenant_id, limit=ALERTS_SHOWN_MAX),
        "failures": failures,
        "health": webhook_pages.sink_health(ledger, tenant_id, list(shown), failures),
    }


@router.get("/t/{tid}")
def overview(request: Request, tid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    return page(
        request,
        "overview.html",
        viewer,
        **_overview(ledger, tid, query(request, "after")),
        checked=None,
    )


@router.post("/t/{tid}/integrity")
async def run_integrity(request: Request, tid: str, ledger: LedgerDep) -> Response:
    """Verify the journal and reconcile every budget, then show the overview with the result
    (a read; offered to writers and admins, who can act on what it finds)."""
    form = await form_of(request)
    viewer = await in_thread(session.viewer, request, ledger, tid, "write")
    session.check_csrf(request, form)

    def check() -> tuple[dict[str, Any], dict[str, Any]]:
        checked = {"verify": ledger.verify(tid), "reconcile": budgets.reconcile_tenant(ledger, tid)}
        return checked, _overview(ledger, tid, None)

    checked, shown = await in_thread(check)
    return page(request, "overview.html", viewer, **shown, checked=checked)


def _instant(request: Request, name: str) -> datetime | None:
    text = query(request, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(
            f"{name} must be a date or time like 2026-03-01 or 2026-03-01T09:00.", field=name
        ) from error
    return _utc(moment)


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one without an offset is read as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/t/{tid}/alerts")
def alert_history(request: Request, tid: str, ledger: LedgerDep) -> Response:
    """The latest PAGE_SIZE_MAX alerts (of one budget, if chosen), filtered by kind and time."""
    viewer = session.viewer(request, ledger, tid, "read")
    budget_id, kind = query(request, "budget"), query(request, "kind")
    since, until = _instant(request, "since"), _instant(request, "until")
    found = budgets.alerts(ledger, tid, budget_id=budget_id, limit=PAGE_SIZE_MAX)

    def wanted(alert: budgets.AlertView) -> bool:
        moment = _utc(alert.created_at)
        return (
            (kind is None or alert.kind == kind)
            and (since is None or moment >= since)
            and (until is None or moment <= until)
        )

    filters = {"budget": budget_id, "kind": kind, "since": query(request, "since")}
    filters["until"] = query(request, "until")
    return page(
        request,
        "alerts.html",
        viewer,
        alerts=[alert for alert in found if wanted(alert)],
        kinds=sorted({alert.kind for alert in found}),
        filters=keep(filters),
        scanned=len(found),
        scanned_max=PAGE_SIZE_MAX,
    )
