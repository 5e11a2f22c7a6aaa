"""``rewardledger budget ...``: campaign budgets from the command line.

Every command prints JSON (amounts as decimal strings); errors print ``error <code>: ...``
and exit 1 (2 for a validation error), like the rest of the CLI. ``report --output FILE``
writes the report to a file, as CSV with ``--format csv``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from rewardledger.cli import output
from rewardledger.cli.context import Cursor, Limit, Tenant, actor_or_os_user, ledger_of
from rewardledger.domain.budgets import BudgetPolicy
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from rewardledger.services import budgets

budget_app = typer.Typer(
    help="Campaign budgets: fund, reserve, charge, release, correct, report.",
    no_args_is_help=True,
)

BudgetId = Annotated[str, typer.Argument(metavar="BUDGET", help="The budget's id.")]
Reference = Annotated[str, typer.Argument(metavar="REFERENCE", help="The issuance reference.")]
Currency = Annotated[str, typer.Option("--currency", help="The budget's currency (USD, ZWG...).")]
Amount = Annotated[str, typer.Argument(metavar="AMOUNT")]
AnyBudget = Annotated[str | None, typer.Argument(metavar="[BUDGET]")]
IdempotencyKey = Annotated[str, typer.Option("--key", help="Idempotency key.")]
# What a correction or a fix records: why, and who (the OS user unless --actor).
Note = Annotated[str, typer.Option("--note", help="Why (mandatory).")]
Actor = Annotated[str | None, typer.Option("--actor", help="Who [default: OS user].")]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _emit(value: Any) -> None:
    output.emit_json(_plain(value))


def _policy_json(policy: BudgetPolicy) -> dict[str, Any]:
    cap = policy.member_cap_amount_minor
    return {
        "id": policy.id,
        "name": policy.name,
        "currency": policy.currency,
        "hard_cap": policy.amount(policy.hard_cap_minor),
        "soft_cap": policy.amount(policy.soft_cap_minor),
        "alert_thresholds": list(policy.thresholds_percent),
        "period": policy.period.value,
        "rollover": policy.rollover,
        "member_cap_amount": None if cap is None else policy.amount(cap),
        "member_cap_count": policy.member_cap_count,
        "funding": policy.funding.value,
        "created_at": policy.created_at.isoformat(),
    }


@budget_app.command("create")
def create(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    currency: Currency,
    hard_cap: Annotated[str, typer.Option("--hard-cap", help="Most that may be used per period.")],
    soft_cap: Annotated[str | None, typer.Option("--soft-cap", help="Alert above this.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    threshold: Annotated[
        list[int] | None,
        typer.Option("--threshold", help="Alert at this percent of the hard cap (repeat)."),
    ] = None,
    period: Annotated[
        str, typer.Option("--period", help="rolling, monthly, quarterly or yearly.")
    ] = "monthly",
    rollover: Annotated[
        bool, typer.Option("--rollover/--no-rollover", help="Move unused funds to the next period.")
    ] = False,
    member_cap_amount: Annotated[str | None, typer.Option("--member-cap-amount")] = None,
    member_cap_count: Annotated[int | None, typer.Option("--member-cap-count")] = None,
    funding: Annotated[
        str,
        typer.Option(
            "--funding", help="prefunded (top up first) or on_demand (capped, not pre-funded)."
        ),
    ] = "prefunded",
) -> None:
    """Define a budget (the same definition again is a no-op)."""
    with ledger_of(ctx) as ledger:
        policy = budgets.create_budget(
            ledger,
            tenant,
            budget_id,
            currency=currency,
            hard_cap=hard_cap,
            soft_cap=soft_cap,
            name=name,
            alert_thresholds=tuple(threshold) if threshold else (80, 95),
            period=period,
            rollover=rollover,
            member_cap_amount=member_cap_amount,
            member_cap_count=member_cap_count,
            funding=funding,
        )
        output.emit_json(_policy_json(policy))


@budget_app.command("list")
def list_(ctx: typer.Context, tenant: Tenant) -> None:
    """The tenant's budgets."""
    with ledger_of(ctx) as ledger:
        found = budgets.list_budgets(ledger, tenant, limit=PAGE_SIZE_MAX)
        output.emit_json({"budgets": [_policy_json(p) for p in found]})


@budget_app.command("show")
def show(ctx: typer.Context, budget_id: BudgetId, tenant: Tenant) -> None:
    """A budget's definition and its current period's figures."""
    with ledger_of(ctx) as ledger:
        policy = budgets.get_budget(ledger, tenant, budget_id)
        figures = budgets.utilization(ledger, tenant, budget_id)
        output.emit_json({**_policy_json(policy), "utilization": _plain(figures)})


@budget_app.command("topup")
def topup(
    ctx: typer.Context,
    budget_id: BudgetId,
    amount: Amount,
    tenant: Tenant,
    currency: Currency,
    key: Annotated[str, typer.Option("--key", help="Idempotency key of this top-up.")],
) -> None:
    """Add funds to the budget's current period."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.topup(
                ledger, tenant, budget_id, amount=amount, currency=currency, idempotency_key=key
            )
        )


@budget_app.command("reserve")
def reserve(
    ctx: typer.Context,
    budget_id: BudgetId,
    reference: Reference,
    amount: Amount,
    tenant: Tenant,
    currency: Currency,
    member: Annotated[str | None, typer.Option("--member", help="Per-member caps key.")] = None,
    timeout_seconds: Annotated[
        int | None, typer.Option("--timeout-seconds", help="Expire the reservation after this.")
    ] = None,
) -> None:
    """Reserve an amount for a reward issuance."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.reserve(
                ledger,
                tenant,
                budget_id,
                reference=reference,
                amount=amount,
                currency=currency,
                member_key=member,
                timeout_seconds=timeout_seconds,
            )
        )


@budget_app.command("charge")
def charge(
    ctx: typer.Context,
    budget_id: BudgetId,
    reference: Reference,
    tenant: Tenant,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Charge less than reserved.")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Idempotency key.")] = None,
) -> None:
    """Charge a reservation on redemption."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.charge(ledger, tenant, budget_id, reference, amount=amount, idempotency_key=key)
        )


@budget_app.command("release")
def release(ctx: typer.Context, budget_id: BudgetId, reference: Reference, tenant: Tenant) -> None:
    """Release a reservation (expiry or cancellation)."""
    with ledger_of(ctx) as ledger:
        _emit(budgets.release(ledger, tenant, budget_id, reference))


@budget_app.command("correct")
def correct(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    reverses: Annotated[str, typer.Option("--reverses", help="The top-up or charge to reverse.")],
    note: Note,
    key: IdempotencyKey,
    amount: Annotated[str | None, typer.Option("--amount", help="Reverse only this much.")] = None,
    actor: Actor = None,
) -> None:
    """Reverse a top-up or a charge, recorded in the audit trail with who and why."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.correct(
                ledger,
                tenant,
                budget_id,
                reverses=reverses,
                note=note,
                actor=actor_or_os_user(actor),
                idempotency_key=key,
                amount=amount,
            )
        )


@budget_app.command("fix")
def fix(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    note: Note,
    key: IdempotencyKey,
    actor: Actor = None,
) -> None:
    """Set the period totals reconciliation finds wrong back to the journal's, audited."""
    with ledger_of(ctx) as ledger:
        who = actor_or_os_user(actor)
        _emit(
            budgets.fix_discrepancies(
                ledger, tenant, budget_id, note=note, actor=who, idempotency_key=key
            )
        )


Rollover = Annotated[
    bool | None,
    typer.Option(
        "--rollover/--no-rollover",
        help="Move earlier periods' available funds in [default: the budget's setting].",
    ),
]


@budget_app.command("reset")
def reset(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    key: IdempotencyKey,
    rollover: Rollover = None,
) -> None:
    """Reset the budget now: a new period opens and used starts at zero."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.reset_budget(ledger, tenant, budget_id, idempotency_key=key, rollover=rollover)
        )


@budget_app.command("reset-all")
def reset_all(
    ctx: typer.Context,
    tenant: Tenant,
    period_type: Annotated[
        str, typer.Option("--period-type", help="rolling, monthly, quarterly or yearly.")
    ],
    key: IdempotencyKey,
    rollover: Rollover = None,
) -> None:
    """Reset every budget of one period type now, each on its own."""
    with ledger_of(ctx) as ledger:
        _emit(
            budgets.reset_budgets(
                ledger, tenant, period_type, idempotency_key=key, rollover=rollover
            )
        )


@budget_app.command("reset-schedule")
def reset_schedule(ctx: typer.Context, budget_id: BudgetId, tenant: Tenant) -> None:
    """When the calendar next resets the budget, and whether a reset is due now."""
    with ledger_of(ctx) as ledger:
        _emit(budgets.reset_schedule(ledger, tenant, budget_id))


@budget_app.command("utilization")
def utilization(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    period: Annotated[str | None, typer.Option("--period", help="Such as 2026-03.")] = None,
) -> None:
    """Funded, reserved, charged, released, used, remaining, percent, cap flags."""
    with ledger_of(ctx) as ledger:
        _emit(budgets.utilization(ledger, tenant, budget_id, period=period))


@budget_app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    tenant: Tenant,
    budget_id: AnyBudget = None,
) -> None:
    """Check budgets against the journal (one, or all of the tenant); exit 1 on discrepancies."""
    with ledger_of(ctx) as ledger:
        if budget_id is not None:
            result: Any = budgets.reconcile(ledger, tenant, budget_id)
            clean = result.clean
        else:
            result = budgets.reconcile_tenant(ledger, tenant)
            clean = result.clean
        output.emit_json({**_plain(result), "clean": clean})
    if not clean:
        raise typer.Exit(1)


@budget_app.command("report")
def report(
    ctx: typer.Context,
    tenant: Tenant,
    budget_id: AnyBudget = None,
    range_name: Annotated[
        str | None, typer.Option("--range", help="today, week, month, quarter or year.")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    output_format: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    file: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    limit: Limit = PAGE_SIZE_MAX,
    cursor: Cursor = None,
) -> None:
    """Totals by entry type, counts and utilization of one budget or all (by budget id, a page
    at a time: ``next_cursor`` in the JSON, a line on standard error with CSV), as JSON or
    CSV."""
    next_cursor = None
    with ledger_of(ctx) as ledger:
        if output_format not in ("json", "csv"):
            raise typer.BadParameter("--format is json or csv")
        if budget_id is not None:
            found = [
                budgets.report(
                    ledger,
                    tenant,
                    budget_id,
                    range_name=range_name,
                    date_from=date_from,
                    date_to=date_to,
                )
            ]
        else:
            page = budgets.tenant_report_page(
                ledger,
                tenant,
                range_name=range_name,
                date_from=date_from,
                date_to=date_to,
                cursor=cursor,
                limit=limit,
            )
            found, next_cursor = page.reports, page.next_cursor
        if output_format == "csv":
            text = budgets.reports_csv(found)
        elif budget_id is not None:
            text = json.dumps({"reports": _plain(found)}, indent=2) + "\n"
        else:
            answer = {"reports": _plain(found), "next_cursor": next_cursor}
            text = json.dumps(answer, indent=2) + "\n"
        if file is None:
            typer.echo(text, nl=False)
        else:
            file.write_text(text, encoding="utf-8")
            output.note(f"Wrote {len(found)} budget report(s) to {file}.")
        if next_cursor is not None and output_format == "csv":
            output.note(f"More budgets follow: --cursor {next_cursor}")


@budget_app.command("entries")
def entries(
    ctx: typer.Context,
    budget_id: BudgetId,
    tenant: Tenant,
    limit: Annotated[int, typer.Option("--limit")] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of a page.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD, included.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD, included.")] = None,
) -> None:
    """The budget's journal entries, newest first, a page at a time, optionally by date."""
    with ledger_of(ctx) as ledger:
        page = budgets.entries(
            ledger,
            tenant,
            budget_id,
            limit=limit,
            cursor=cursor,
            date_from=date_from,
            date_to=date_to,
        )
        _emit(page)


@budget_app.command("alerts")
def alerts(
    ctx: typer.Context,
    tenant: Tenant,
    budget_id: Annotated[str | None, typer.Option("--budget")] = None,
    limit: Annotated[int, typer.Option("--limit")] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of the last page.")] = None,
) -> None:
    """Budget alerts, newest first, a page at a time."""
    with ledger_of(ctx) as ledger:
        page = budgets.alerts_page(ledger, tenant, budget_id=budget_id, cursor=cursor, limit=limit)
        output.emit_json({"alerts": _plain(page.alerts), "next_cursor": page.next_cursor})
