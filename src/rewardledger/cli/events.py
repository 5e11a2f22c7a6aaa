"""``rewardledger events``: replay a tenant's event feed from a cursor, and prune old events.

``tail`` prints one JSON envelope a line (the shape NATS and webhooks carry, docs/events.md),
then the cursor to continue from on standard error; ``--follow`` keeps polling every
``--interval`` seconds until Ctrl-C, which ends it cleanly (exit 0). ``prune`` deletes events
older than the retention that every sink of the tenant has passed.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Annotated

import typer

from rewardledger.cli import output
from rewardledger.cli.context import OnlyTenant, Tenant, ledger_of, settings_from
from rewardledger.config import EVENT_RETENTION_DAYS_MAX
from rewardledger.domain.limits import (
    EVENT_PRUNE_BATCH_SIZE_DEFAULT,
    EVENT_PRUNE_BATCH_SIZE_MAX,
    PAGE_SIZE_MAX,
)
from rewardledger.events.replay import replay
from rewardledger.events.retention import prune_events

events_app = typer.Typer(help="Replay and prune the event feed.", no_args_is_help=True)

TAIL_POLL_INTERVAL_SECONDS = 1.0
TAIL_POLL_INTERVAL_SECONDS_MIN = 0.05
TAIL_POLL_INTERVAL_SECONDS_MAX = 3_600.0


@events_app.command("tail")
def tail(
    ctx: typer.Context,
    tenant: Tenant,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="CURSOR",
            help="Start after this cursor [default: the first event kept].",
        ),
    ] = None,
    event_type: Annotated[
        list[str] | None,
        typer.Option("--type", metavar="TYPE", help="Only this event type (repeatable)."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep polling for new events until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=TAIL_POLL_INTERVAL_SECONDS_MIN,
            max=TAIL_POLL_INTERVAL_SECONDS_MAX,
            help="Seconds between two polls with --follow.",
        ),
    ] = TAIL_POLL_INTERVAL_SECONDS,
) -> None:
    """Print the tenant's events after --after, one JSON envelope a line, in feed order; the
    cursor to continue from goes to standard error as `cursor <CURSOR>`."""
    cursor = after
    with ledger_of(ctx) as ledger:
        try:
            while True:
                page = replay(
                    ledger, tenant, after=cursor, limit=PAGE_SIZE_MAX, event_types=event_type
                )
                for envelope in page.events:
                    typer.echo(json.dumps(envelope, separators=(",", ":")))
                cursor = page.next_cursor
                if page.events:
                    continue
                if not follow:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
    if cursor is not None:
        output.note(f"cursor {cursor}")


@events_app.command("prune")
def prune(
    ctx: typer.Context,
    tenant: OnlyTenant = None,
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=1,
            max=EVENT_RETENTION_DAYS_MAX,
            help="Keep events this recent [default: REWARDLEDGER_EVENT_RETENTION_DAYS, 30].",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, max=EVENT_PRUNE_BATCH_SIZE_MAX, help="Rows per transaction."
        ),
    ] = EVENT_PRUNE_BATCH_SIZE_DEFAULT,
) -> None:
    """Delete events older than the retention that every sink of the tenant has passed (a
    tenant whose sinks never delivered keeps all); print how many, per tenant, as JSON."""
    with ledger_of(ctx) as ledger:
        days = older_than_days or settings_from().event_retention_days
        older_than = ledger.clock() - timedelta(days=days)
        tenant_ids = [tenant] if tenant is not None else [t.id for t in ledger.list_tenants()]
        pruned = [
            {
                "tenant_id": tenant_id,
                "deleted": prune_events(
                    ledger, tenant_id, older_than=older_than, batch_size=batch_size
                ),
            }
            for tenant_id in tenant_ids
        ]
    output.emit_json({"older_than": older_than.isoformat(), "tenants": pruned})
