"""The console's webhooks pages: the tenant's endpoints with their delivery health, and one
endpoint's deliveries with their attempts, with an admin's controls.

Owns: those pages' reads and writes, each a call into ``events.webhooks`` (as the /v1 routes
make them): redeliver one event or a range (from a time), disable or enable, rotate the
secret. A rotated secret is shown on the page that answers the rotation, once; it is never
listed again. Every form carries the CSRF token; a reader or writer sees no control (the
controls need the admin role, as the API's routes do).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.jobs import JobFailure
from rewardledger.events import health, webhooks
from rewardledger.http.console import session
from rewardledger.http.console.rendering import console_router, form_of, in_thread, page, query
from rewardledger.http.deps import LedgerDep
from rewardledger.ledger.engine import Ledger
from rewardledger.services import jobs

router = console_router()
ENDPOINTS_PER_PAGE = 20
DELIVERIES_PER_PAGE = 10


def sink_health(
    ledger: Ledger,
    tenant_id: str,
    endpoints: list[webhooks.Endpoint],
    failures: Sequence[JobFailure] | None = None,
) -> list[health.SinkHealth]:
    """The delivery health of ``endpoints`` and of the tenant's relay sinks; a relay's
    failures are the open failures of the worker step of its name (``nats``), read here
    unless the caller has read them (``failures``)."""
    if failures is None:
        failures = jobs.failures(ledger, tenant_id)
    failed = {failure.step: failure.attempts for failure in failures}
    return health.delivery_health(ledger, tenant_id, endpoints, failed)


@router.get("/t/{tid}/webhooks")
def endpoints_page(request: Request, tid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    found = webhooks.list_endpoints(
        ledger, tid, cursor=query(request, "cursor"), limit=ENDPOINTS_PER_PAGE
    )
    shown = list(found.endpoints)
    return page(
        request,
        "webhooks.html",
        viewer,
        health=sink_health(ledger, tid, shown),
        next_cursor=found.next_cursor,
        now=ledger.clock(),
    )


def _endpoint_page(
    request: Request,
    ledger: Ledger,
    viewer: session.Viewer,
    eid: str,
    cursor: str | None = None,
    **outcome: Any,
) -> Response:
    tid = viewer.tenant_id
    endpoint = webhooks.get_endpoint(ledger, tid, eid)
    found = webhooks.list_deliveries(ledger, tid, eid, cursor=cursor, limit=DELIVERIES_PER_PAGE)
    return page(
        request,
        "webhook.html",
        viewer,
        endpoint=endpoint,
        health=sink_health(ledger, tid, [endpoint])[0],
        deliveries=found,
        can_admin=viewer.principal.can("admin"),
        now=ledger.clock(),
        **outcome,
    )


@router.get("/t/{tid}/webhooks/{eid}")
def endpoint_page(request: Request, tid: str, eid: str, ledger: LedgerDep) -> Response:
    viewer = session.viewer(request, ledger, tid, "read")
    return _endpoint_page(request, ledger, viewer, eid, query(request, "cursor"))


async def _admin_form(
    request: Request, ledger: Ledger, tid: str
) -> tuple[session.Viewer, dict[str, str]]:
    form = await form_of(request)
    viewer = await in_thread(session.viewer, request, ledger, tid, "admin")
    session.check_csrf(request, form)
    return viewer, form


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(
            "since must be a date or time like 2026-03-01 or 2026-03-01T09:00.", field="since"
        ) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.post("/t/{tid}/webhooks/{eid}/redeliver")
async def redeliver(request: Request, tid: str, eid: str, ledger: LedgerDep) -> Response:
    """``event`` set: that event again; else every subscribed event written since ``since``
    (at most ``WEBHOOK_REDELIVER_RANGE_MAX`` a click)."""
    viewer, form = await _admin_form(request, ledger, tid)
    event_id = form.get("event", "").strip()

    def act() -> Response:
        if event_id:
            scheduled = webhooks.redeliver_event(ledger, tid, eid, event_id)
            done = (
                f"Event {event_id} is scheduled again."
                if scheduled
                else (f"Event {event_id} is being sent right now; nothing was added.")
            )
        else:
            since = form.get("since", "").strip()
            if not since:
                raise ValidationError("Give the time the range starts (since).", field="since")
            report = webhooks.redeliver_range(ledger, tid, eid, since=_since(since))
            done = f"{report.scheduled} events since {since} are scheduled again."
            if report.next_cursor:
                done += " The range was cut at its limit: redeliver again from a later time."
        return _endpoint_page(request, ledger, viewer, eid, done=done)

    return await in_thread(act)


@router.post("/t/{tid}/webhooks/{eid}/enabled")
async def set_enabled(request: Request, tid: str, eid: str, ledger: LedgerDep) -> Response:
    viewer, form = await _admin_form(request, ledger, tid)
    enabled = form.get("enabled") == "true"

    def act() -> Response:
        webhooks.update_endpoint(ledger, tid, eid, enabled=enabled)
        done = (
            "The endpoint is enabled."
            if enabled
            else ("The endpoint is disabled: its deliveries wait until it is enabled again.")
        )
        return _endpoint_page(request, ledger, viewer, eid, done=done)

    return await in_thread(act)


@router.post("/t/{tid}/webhooks/{eid}/rotate")
async def rotate(request: Request, tid: str, eid: str, ledger: LedgerDep) -> Response:
    """A new secret, shown on this answer only; the old one signs too for a day."""
    viewer, _ = await _admin_form(request, ledger, tid)

    def act() -> Response:
        rotated = webhooks.rotate_secret(ledger, tid, eid)
        done = "The secret is rotated; the old one keeps signing for a day beside it."
        return _endpoint_page(request, ledger, viewer, eid, done=done, secret=rotated.secret)

    return await in_thread(act)
