"""``rewardledger webhooks ...``: add, list, show, update, remove and rotate a tenant's webhook
endpoints, list an endpoint's deliveries with their attempts, and redeliver events.

Thin: parse, call one function of ``events.webhooks``, print JSON. The secret is printed only
by ``add`` and ``rotate``. Errors come out as ``error <code>: <message>`` with exit code 1 (2
for a validation error).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rewardledger.cli import output
from rewardledger.cli.context import Tenant, ledger_of, parse_time
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.domain.webhooks import WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT
from rewardledger.events import webhooks
from rewardledger.events.webhooks import Delivery, Endpoint

webhooks_app: typer.Typer = typer.Typer(
    help="Webhook endpoints: add, list, update, rotate secrets, deliveries, redelivery.",
    no_args_is_help=True,
)

EndpointId = Annotated[str, typer.Argument(metavar="ENDPOINT", help="The endpoint's id (ep_...).")]
PageCursor = Annotated[str | None, typer.Option(help="next_cursor of the previous page.")]
EventType = Annotated[
    list[str] | None,
    typer.Option("--event", "-e", help="An event type to receive (repeat); '*' for every type."),
]


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    expires = endpoint.previous_secret_expires_at
    return {
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "created_at": endpoint.created_at.isoformat(),
        "updated_at": endpoint.updated_at.isoformat(),
        "previous_secret_expires_at": None if expires is None else expires.isoformat(),
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "subject_id": delivery.subject_id,
        "status": delivery.status.value,
        "tries": delivery.tries,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "attempts": [
            {
                "attempt": a.attempt,
                "attempted_at": a.attempted_at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "latency_ms": a.latency_ms,
                "response_excerpt": a.response_excerpt,
            }
            for a in delivery.attempts
        ],
    }


@webhooks_app.command("add")
def add(
    ctx: typer.Context,
    tenant: Tenant,
    url: Annotated[str, typer.Argument(help="Where to POST events (http:// or https://).")],
    event: EventType = None,
    description: Annotated[str, typer.Option(help="What the endpoint is for.")] = "",
    enabled: Annotated[bool, typer.Option(help="Send to it from now on.")] = True,
) -> None:
    """Add an endpoint; prints its signing secret (whsec_...), which is not shown again."""
    with ledger_of(ctx) as ledger:
        created = webhooks.add_endpoint(
            ledger,
            tenant,
            url=url,
            event_types=event or ["*"],
            description=description,
            enabled=enabled,
        )
    output.emit_json({**_endpoint(created.endpoint), "secret": created.secret})


@webhooks_app.command("list")
def list_(
    ctx: typer.Context,
    tenant: Tenant,
    limit: Annotated[int, typer.Option(help="Endpoints per page.")] = PAGE_SIZE_DEFAULT,
    cursor: PageCursor = None,
) -> None:
    """The tenant's endpoints (no secrets)."""
    with ledger_of(ctx) as ledger:
        page = webhooks.list_endpoints(ledger, tenant, cursor=cursor, limit=limit)
    output.emit_json(
        {"endpoints": [_endpoint(e) for e in page.endpoints], "next_cursor": page.next_cursor}
    )


@webhooks_app.command("show")
def show(ctx: typer.Context, tenant: Tenant, endpoint_id: EndpointId) -> None:
    """One endpoint."""
    with ledger_of(ctx) as ledger:
        output.emit_json(_endpoint(webhooks.get_endpoint(ledger, tenant, endpoint_id)))


@webhooks_app.command("update")
def update(
    ctx: typer.Context,
    tenant: Tenant,
    endpoint_id: EndpointId,
    url: Annotated[str | None, typer.Option(help="A new url.")] = None,
    event: EventType = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Resume or pause deliveries.")
    ] = None,
) -> None:
    """Change what is given; --disabled pauses deliveries (they wait, in order)."""
    with ledger_of(ctx) as ledger:
        updated = webhooks.update_endpoint(
            ledger,
            tenant,
            endpoint_id,
            url=url,
            event_types=event,
            description=description,
            enabled=enabled,
        )
    output.emit_json(_endpoint(updated))


@webhooks_app.command("remove")
def remove(ctx: typer.Context, tenant: Tenant, endpoint_id: EndpointId) -> None:
    """Delete the endpoint with its deliveries and attempts (to pause it: update --disabled)."""
    with ledger_of(ctx) as ledger:
        webhooks.remove_endpoint(ledger, tenant, endpoint_id)
    output.emit_json({"endpoint_id": endpoint_id, "removed": True})


@webhooks_app.command("rotate")
def rotate(
    ctx: typer.Context,
    tenant: Tenant,
    endpoint_id: EndpointId,
    overlap_seconds: Annotated[
        int, typer.Option(help="Keep signing with the old secret too for this long.")
    ] = WEBHOOK_ROTATION_OVERLAP_SECONDS_DEFAULT,
) -> None:
    """Give the endpoint a new secret (printed this once); the old one keeps signing for the
    overlap."""
    with ledger_of(ctx) as ledger:
        rotated = webhooks.rotate_secret(
            ledger, tenant, endpoint_id, overlap_seconds=overlap_seconds
        )
    output.emit_json({**_endpoint(rotated.endpoint), "secret": rotated.secret})


@webhooks_app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    tenant: Tenant,
    endpoint_id: EndpointId,
    limit: Annotated[int, typer.Option(help="Deliveries per page.")] = PAGE_SIZE_DEFAULT,
    cursor: PageCursor = None,
) -> None:
    """The endpoint's deliveries, latest first, each with every attempt."""
    with ledger_of(ctx) as ledger:
        page = webhooks.list_deliveries(ledger, tenant, endpoint_id, cursor=cursor, limit=limit)
    output.emit_json(
        {"deliveries": [_delivery(d) for d in page.deliveries], "next_cursor": page.next_cursor}
    )


@webhooks_app.command("redeliver")
def redeliver(
    ctx: typer.Context,
    tenant: Tenant,
    endpoint_id: EndpointId,
    event_id: Annotated[str | None, typer.Option("--event-id", help="One event to send.")] = None,
    after: Annotated[str | None, typer.Option(help="A range: after this feed cursor.")] = None,
    until: Annotated[str | None, typer.Option(help="A range: up to this feed cursor.")] = None,
    since: Annotated[str | None, typer.Option(help="A range: written at or after (ISO).")] = None,
    until_time: Annotated[str | None, typer.Option(help="A range: written before (ISO).")] = None,
) -> None:
    """Send one event (--event-id) or a range (--after/--since ...) again, in a new round."""
    with ledger_of(ctx) as ledger:
        if event_id is not None:
            scheduled = webhooks.redeliver_event(ledger, tenant, endpoint_id, event_id)
            output.emit_json({"scheduled": scheduled, "next_cursor": None})
            return
        report = webhooks.redeliver_range(
            ledger,
            tenant,
            endpoint_id,
            after=after,
            until=until,
            since=parse_time(since, "since"),
            until_time=parse_time(until_time, "until_time"),
        )
    output.emit_json({"scheduled": report.scheduled, "next_cursor": report.next_cursor})
