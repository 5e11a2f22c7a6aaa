"""``rewardledger cashback ...``, ``rewardledger debt ...`` and ``rewardledger cycles ...``.

Owns: the command-line face of the cycle services. Commands print JSON (amounts as decimal
strings) or, with ``--csv``, the ledgers with the seeds' column names; refresh and rebuild show
a progress bar on standard error.
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import typer

from rewardledger.cli import output
from rewardledger.cli.context import Tenant, ledger_of, parse_time
from rewardledger.domain.cycles import (
    CashbackMovement,
    CashbackRow,
    DebtMovement,
    DebtRow,
    LedgerFilter,
    LedgerName,
    row_id,
)
from rewardledger.domain.money import format_minor
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt

cashback_app: typer.Typer = typer.Typer(
    help="Cashback: programme, accruals, the cashback ledger.", no_args_is_help=True
)
debt_app: typer.Typer = typer.Typer(
    help="Debt: programme, movements, the debt ledger.", no_args_is_help=True
)
cycles_app: typer.Typer = typer.Typer(
    help="Keep the cycle ledgers in step: refresh, rebuild.", no_args_is_help=True
)


Row = TypeVar("Row", CashbackRow, DebtRow)

Csv = Annotated[bool, typer.Option("--csv", help="Print CSV with the seed's columns.")]
When = Annotated[
    str | None, typer.Option(metavar="TIME", help="ISO 8601 time with an offset [default: now].")
]
Currency = Annotated[str, typer.Option(help="Asset code, e.g. USD.")]
MovementId = Annotated[str, typer.Option("--id", help="The movement's id (idempotency key).")]
CashbackAccount = Annotated[str, typer.Argument(help="The cashback account.")]
CycleFilter = Annotated[str | None, typer.Option(help="Only this cycle (YYYY-MM).")]


def _cashback_scale(ledger: Ledger, tenant_id: str) -> int:
    return ledger.get_asset(tenant_id, cashback.get_program(ledger, tenant_id).currency).scale


def _debt_scale(ledger: Ledger, tenant_id: str) -> int:
    return ledger.get_asset(tenant_id, debt.get_program(ledger, tenant_id).currency).scale


def _money(minor: int | None, scale: int) -> str | None:
    return None if minor is None else format_minor(minor, scale)


def cashback_row_json(tenant_id: str, row: CashbackRow, at: datetime, scale: int) -> dict[str, Any]:
    return {
        "cashback_ledger_id": row_id(LedgerName.CASHBACK, tenant_id, row.account_id, row.cycle_tag),
        "account_id": row.account_id,
        "cycle_tag": row.cycle_tag,
        "total_spend": _money(row.total_spend_minor, scale),
        "total_cashback": _money(row.total_cashback_minor, scale),
        "budget_cap": _money(row.budget_cap_minor, scale),
        "eligibility": row.eligibility.value,
        "remaining_budget": _money(row.remaining_budget_minor, scale),
        "status": row.status.value,
        "notes": row.notes,
        "last_updated": at.isoformat(),
    }


def debt_row_json(tenant_id: str, row: DebtRow, at: datetime, scale: int) -> dict[str, Any]:
    return {
        "debt_ledger_id": row_id(LedgerName.DEBT, tenant_id, row.person_id, row.cycle_tag),
        "person_id": row.person_id,
        "cycle_tag": row.cycle_tag,
        "initial_debt": _money(row.initial_debt_minor, scale),
        "new_debt": _money(row.new_debt_minor, scale),
        "repayments": _money(row.repayments_minor, scale),
        "debt_discount": _money(row.debt_discount_minor, scale),
        "net_debt": _money(row.net_debt_minor, scale),
        "status": row.status.value,
        "due_at": row.due_at.isoformat(),
        "last_updated": at.isoformat(),
        "notes": row.notes,
    }


def _cashback_movement_json(
    movement: CashbackMovement, scale: int, replayed: bool
) -> dict[str, Any]:
    return {
        "id": movement.id,
        "kind": movement.kind.value,
        "account_id": movement.account_id,
        "cycle_tag": movement.cycle_tag,
        "spend": _money(movement.spend_minor, scale),
        "requested_cashback": _money(movement.requested_minor, scale),
        "cashback_amount": _money(movement.cashback_minor, scale),
        "budget_cap": _money(movement.budget_cap_minor, scale),
        "override": movement.override,
        "transfer_id": movement.transfer_id,
        "replayed": replayed,
    }


def _debt_movement_json(movement: DebtMovement, scale: int, replayed: bool) -> dict[str, Any]:
    return {
        "id": movement.id,
        "person_id": movement.person_id,
        "kind": movement.kind.value,
        "amount": _money(movement.amount_minor, scale),
        "cycle_tag": movement.cycle_tag,
        "transfer_id": movement.transfer_id,
        "replayed": replayed,
    }


@dataclass(frozen=True, slots=True)
class _LedgerRows(Generic[Row]):
    """How ``cashback ledger`` and ``debt ledger`` print their ledger: its rows as JSON, in the
    scale of the programme's currency, under the seed's name (``name``, in CSV)."""

    name: str
    scale_of: Callable[[Ledger, str], int]
    every_row: Callable[[Ledger, str, LedgerFilter], Iterator[tuple[Row, datetime]]]
    row_json: Callable[[str, Row, datetime, int], dict[str, Any]]

    def emit(self, ctx: typer.Context, tenant: str, where: LedgerFilter, as_csv: bool) -> None:
        with ledger_of(ctx) as ledger:
            scale = self.scale_of(ledger, tenant)
            found = self.every_row(ledger, tenant, where)
            rows = (self.row_json(tenant, row, at, scale) for row, at in found)
            _print_rows(rows, as_csv, self.name)


_CASHBACK_LEDGER = _LedgerRows(
    "cashback_ledger", _cashback_scale, cycles.every_cashback_row, cashback_row_json
)
_DEBT_LEDGER = _LedgerRows("debt_ledger", _debt_scale, cycles.every_debt_row, debt_row_json)


# Cashback ------------------------------------------------------------------------------------


@cashback_app.command("program")
def cashback_program(
    ctx: typer.Context,
    tenant: Tenant,
    currency: Currency,
    minimum_spend: Annotated[str, typer.Option(help="Minimum spend per cycle.")],
    default_cap: Annotated[str, typer.Option(help="Cashback cap per cycle.")],
    grace_days: Annotated[int, typer.Option(help="Days after the month before it closes.")] = 0,
) -> None:
    """Set the tenant's cashback programme."""
    with ledger_of(ctx) as ledger:
        program = cashback.set_program(
            ledger,
            tenant,
            currency=currency,
            minimum_spend=minimum_spend,
            default_cap=default_cap,
            grace_days=grace_days,
        )
        scale = _cashback_scale(ledger, tenant)
    output.emit_json(
        {
            "currency": program.currency,
            "minimum_spend": _money(program.minimum_spend_minor, scale),
            "default_cap": _money(program.default_cap_minor, scale),
            "grace_days": program.grace_days,
        }
    )


@cashback_app.command("account")
def cashback_account(
    ctx: typer.Context,
    tenant: Tenant,
    account: CashbackAccount,
    default_cap: Annotated[str | None, typer.Option(help="Its own cap per cycle.")] = None,
    enrolled: Annotated[bool, typer.Option("--enrolled/--not-enrolled")] = True,
) -> None:
    """Set an account's default cap and enrolment."""
    with ledger_of(ctx) as ledger:
        settings = cashback.set_account(
            ledger, tenant, account, default_cap=default_cap, enrolled=enrolled
        )
        scale = _cashback_scale(ledger, tenant)
    output.emit_json(
        {
            "account_id": settings.account_id,
            "default_cap": _money(settings.default_cap_minor, scale),
            "enrolled": settings.enrolled,
        }
    )


@cashback_app.command("accrue")
def cashback_accrue(
    ctx: typer.Context,
    tenant: Tenant,
    movement_id: MovementId,
    account: Annotated[str, typer.Option(help="The cashback account.")],
    spend: Annotated[str, typer.Option(help="Qualifying spend.")],
    amount: Annotated[str, typer.Option("--cashback", help="Cashback granted for it.")],
    at: When = None,
    cycle: Annotated[
        str | None, typer.Option(help="Cycle tag YYYY-MM [default: from --at].")
    ] = None,
    cap: Annotated[str | None, typer.Option(help="Cap snapshot for the cycle.")] = None,
    override: Annotated[bool, typer.Option(help="Credit it all, even past the cap.")] = False,
) -> None:
    """Record an accrual: credited up to the cycle's cap unless --override."""
    with ledger_of(ctx) as ledger:
        result = cashback.accrue(
            ledger,
            tenant,
            cashback.Accrual(
                movement_id,
                account,
                spend,
                amount,
                occurred_at=parse_time(at, "at", offset=False),
                cycle_tag=cycle,
                budget_cap=cap,
                override=override,
            ),
        )
        scale = _cashback_scale(ledger, tenant)
    output.emit_json(_cashback_movement_json(result.movement, scale, result.replayed))


@cashback_app.command("reverse")
def cashback_reverse(
    ctx: typer.Context,
    tenant: Tenant,
    accrual: Annotated[
        str, typer.Argument(help="The id of the accrual whose purchase was refunded.")
    ],
) -> None:
    """Take back an accrual's spend and credited cashback (once)."""
    with ledger_of(ctx) as ledger:
        result = cashback.reverse(ledger, tenant, cashback.Reversal(accrual))
        scale = _cashback_scale(ledger, tenant)
    output.emit_json(_cashback_movement_json(result.movement, scale, result.replayed))


@cashback_app.command("ledger")
def cashback_ledger(
    ctx: typer.Context,
    tenant: Tenant,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    cycle: CycleFilter = None,
    status: Annotated[str | None, typer.Option(help="open or closed.")] = None,
    eligibility: Annotated[
        str | None, typer.Option(help="eligible, not_eligible, reached_cap, pending.")
    ] = None,
    as_csv: Csv = False,
) -> None:
    """Print the cashback ledger rows (all pages)."""
    _CASHBACK_LEDGER.emit(ctx, tenant, LedgerFilter(account, cycle, status, eligibility), as_csv)


@cashback_app.command("apply-to-debt")
def cashback_apply(
    ctx: typer.Context,
    tenant: Tenant,
    account: CashbackAccount,
    cycle: Annotated[str, typer.Argument(help="The closed cycle (YYYY-MM).")],
    person: Annotated[str, typer.Option(help="Whose debt it reduces.")],
    debt_cycle: Annotated[str | None, typer.Option(help="The debt cycle [default: now's].")] = None,
) -> None:
    """Apply a closed cycle's cashback as a discount on a person's debt (once per cycle)."""
    with ledger_of(ctx) as ledger:
        result = cashback.apply_to_debt(
            ledger, tenant, account, cycle, person_id=person, debt_cycle_tag=debt_cycle
        )
        scale = _debt_scale(ledger, tenant)
    output.emit_json(_debt_movement_json(result.movement, scale, result.replayed))


# Debt ----------------------------------------------------------------------------------------


@debt_app.command("program")
def debt_program(
    ctx: typer.Context,
    tenant: Tenant,
    currency: Currency,
    closing_day: Annotated[int, typer.Option(help="Statement closing day (31: month end).")] = 31,
    due_day: Annotated[int, typer.Option(help="Due day in the following month.")] = 15,
    grace_days: Annotated[int, typer.Option(help="Days after the due date before overdue.")] = 0,
) -> None:
    """Set the tenant's debt programme."""
    with ledger_of(ctx) as ledger:
        program = debt.set_program(
            ledger,
            tenant,
            currency=currency,
            closing_day=closing_day,
            due_day=due_day,
            grace_days=grace_days,
        )
    output.emit_json(
        {
            "currency": program.currency,
            "closing_day": program.closing_day,
            "due_day": program.due_day,
            "grace_days": program.grace_days,
        }
    )


@debt_app.command("record")
def debt_record(
    ctx: typer.Context,
    tenant: Tenant,
    movement_id: MovementId,
    person: Annotated[str, typer.Option(help="The person.")],
    kind: Annotated[str, typer.Option(help="opening, charge, repayment or discount.")],
    amount: Annotated[str, typer.Option(help="The amount.")],
    cycle: Annotated[str | None, typer.Option(help="Cycle tag [default: the current one].")] = None,
    due: Annotated[str | None, typer.Option(help="Due date overriding the programme's.")] = None,
    at: When = None,
) -> None:
    """Record a debt movement."""
    with ledger_of(ctx) as ledger:
        result = debt.record(
            ledger,
            tenant,
            debt.DebtRequest(
                movement_id,
                person,
                kind,
                amount,
                cycle_tag=cycle,
                due_at=parse_time(due, "due", offset=False),
                occurred_at=parse_time(at, "at", offset=False),
            ),
        )
        scale = _debt_scale(ledger, tenant)
    output.emit_json(_debt_movement_json(result.movement, scale, result.replayed))


@debt_app.command("ledger")
def debt_ledger(
    ctx: typer.Context,
    tenant: Tenant,
    person: Annotated[str | None, typer.Option(help="Only this person.")] = None,
    cycle: CycleFilter = None,
    status: Annotated[str | None, typer.Option(help="open, partial, repaid or overdue.")] = None,
    as_csv: Csv = False,
) -> None:
    """Print the debt ledger rows (all pages)."""
    _DEBT_LEDGER.emit(ctx, tenant, LedgerFilter(person, cycle, status), as_csv)


def _print_rows(rows: Iterable[dict[str, Any]], as_csv: bool, name: str) -> None:
    """Print each row as it is read (memory holds one page): as CSV with the first row's keys
    for header, or as the JSON ``output.emit_json({"rows": [...]})`` prints, written row by row."""
    remaining = iter(rows)
    first = next(remaining, None)
    if first is None:
        if as_csv:
            output.note(f"{name}: no rows")
        else:
            output.emit_json({"rows": []})
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(first), lineterminator="\n")
        writer.writeheader()
        writer.writerow(first)
        writer.writerows(remaining)
        return
    typer.echo('{\n  "rows": [')
    row = first
    for following in remaining:
        typer.echo(textwrap.indent(json.dumps(row, indent=2), "    ") + ",")
        row = following
    typer.echo(textwrap.indent(json.dumps(row, indent=2), "    "))
    typer.echo("  ]\n}")


# Cycles --------------------------------------------------------------------------------------


@cycles_app.command("mode")
def cycles_mode(
    ctx: typer.Context,
    tenant: Tenant,
    mode: Annotated[str, typer.Argument(help="inline (in each write) or job (by refresh).")],
) -> None:
    """Choose where the tenant's ledger rows are recomputed."""
    with ledger_of(ctx) as ledger:
        chosen = cycles.set_refresh_mode(ledger, tenant, mode)
    output.emit_json({"refresh_mode": chosen.value})


def _recompute_command(
    name: str,
    count: Callable[[Ledger, str], int],
    recompute: Callable[..., cycles.RefreshReport],
    doc: str,
) -> None:
    """``cycles refresh`` and ``cycles rebuild``: count the pairs, recompute them under a
    progress bar, print what changed."""

    def command(ctx: typer.Context, tenant: Tenant) -> None:
        with ledger_of(ctx) as ledger, output.progress() as bar:
            task = bar.add_task(f"{name} {tenant}", total=count(ledger, tenant), unit="pairs")
            report = recompute(ledger, tenant, progress=output.advancer(bar, task))
        output.emit_json({"pairs": report.pairs, "rows_changed": report.rows_changed})

    command.__doc__ = doc
    command.__name__ = command.__qualname__ = f"cycles_{name}"
    cycles_app.command(name)(command)


_recompute_command(
    "refresh", cycles.count_dirty, cycles.refresh, "Recompute the dirty (holder, cycle) pairs."
)
_recompute_command(
    "rebuild",
    cycles.count_pairs,
    cycles.rebuild,
    "Recompute every row of both ledgers from the movements.",
)
