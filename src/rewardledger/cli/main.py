"""The ``rewardledger`` command line (Typer): serve, worker, migrate, tenants, keys, verify,
repair, demo. ``serve`` and ``worker`` live in their own modules.

Owns: parsing arguments, opening the ledger at ``--db`` and turning errors into exit codes.
Each command is thin: parse, call one service or engine function, render (``cli.output``).

Exit codes, the same for every command:
    0   done (for ``verify``: every tenant checked is clean)
    1   a rewardledger error other than a validation error (``not_found``, ``already_exists``,
        ...), a database that cannot be opened, discrepancies found by ``verify``, or a
        due-jobs step that failed (``jobs run``: one line per failure, no traceback)
    2   a validation error (``validation_error``) or a bad command line (unknown option,
        role or number out of range)
A ``LedgerError`` is printed as ``error <code>: <message>``, never as a traceback.
"""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from rewardledger.cli import output
from rewardledger.cli.budgets import budget_app
from rewardledger.cli.context import (
    Cursor,
    Limit,
    OnlyTenant,
    Options,
    actor_or_os_user,
    database_url,
    ledger_of,
    open_at,
    parse_time,
    reporting_errors,
)
from rewardledger.cli.cycles import cashback_app, cycles_app, debt_app
from rewardledger.cli.db import db_app
from rewardledger.cli.events import events_app
from rewardledger.cli.keys import apikey_app
from rewardledger.cli.lists import account_app, transfer_app  # and budget's lists
from rewardledger.cli.migrate import migrate_from_app
from rewardledger.cli.points import redemption_app
from rewardledger.cli.points_setup import points_app  # with its set-up commands
from rewardledger.cli.serve import serve
from rewardledger.cli.webhooks import webhooks_app
from rewardledger.cli.worker import worker
from rewardledger.domain.errors import UnsafeInterpreter
from rewardledger.domain.limits import PAGE_SIZE_DEFAULT
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.results import IntegrityReport, RepairReport
from rewardledger.services import access, demo, jobs
from rewardledger.storage.engine import safe_url

# Bounds of ``rewardledger demo`` (about 1.7 writes per member and day).
DEMO_MEMBERS_MAX = 100_000
DEMO_DAYS_MAX = 1_000

app = typer.Typer(
    name="rewardledger",
    help="rewardledger: a double-entry ledger for loyalty programmes.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    # Never print local variables in a traceback: they may hold API keys or passwords.
    pretty_exceptions_show_locals=False,
)
tenant_app = typer.Typer(help="Create tenants.", no_args_is_help=True)
jobs_app = typer.Typer(help="Run what is due: expiries, resets, refreshes.", no_args_is_help=True)
app.command()(serve)
app.command()(worker)
# The command groups by name, in the order --help lists them (after the commands).
GROUPS: dict[str, typer.Typer] = {
    "tenant": tenant_app,
    "apikey": apikey_app,
    "jobs": jobs_app,
    "budget": budget_app,
    "account": account_app,
    "transfer": transfer_app,
    "points": points_app,
    "redemption": redemption_app,
    "cashback": cashback_app,
    "debt": debt_app,
    "cycles": cycles_app,
    "db": db_app,
    "migrate-from": migrate_from_app,
    "webhooks": webhooks_app,
    "events": events_app,
}
for name, group in GROUPS.items():
    app.add_typer(group, name=name)


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="sqlite:///path/to/file.db or postgresql://user@host:5432/database "
            "[default: REWARDLEDGER_DATABASE_URL, else sqlite:///./rewardledger.db]",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = Options(db)


def _tenant_ids(ledger: Ledger, tenant: str | None) -> list[str]:
    if tenant is not None:
        ledger.get_tenant(tenant)
        return [tenant]
    return [t.id for t in ledger.list_tenants()]


# Commands ------------------------------------------------------------------------------------


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date and print its revision.

    Safe to run from several processes at once. The other commands also bring the schema up to
    date when they open the database; this one does only that.
    """
    with reporting_errors():
        url = database_url(ctx)
        with open_at(url) as ledger:
            revision = ledger.schema_revision()
    output.line(f"{safe_url(url)}: schema at revision {revision}")


@tenant_app.command("create")
def tenant_create(
    ctx: typer.Context,
    tenant_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="Lowercase letters, digits, '_' or '-'; it appears in URLs."
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Display name [default: the id].")] = None,
    timezone: Annotated[
        str, typer.Option(metavar="TZ", help="IANA time zone of the tenant's cycles.")
    ] = "UTC",
) -> None:
    """Create a tenant and print it, with its first admin API key, as JSON.

    The key is shown this once (only its hash is stored): keep it.
    """
    with ledger_of(ctx) as ledger:
        tenant, issued = access.create_tenant(ledger, tenant_id, name=name, timezone=timezone)
    output.emit_json({"tenant": output.tenant_json(tenant), "api_key": output.key_json(issued)})
    output.note("The API key is shown only this once; store it now.")


@app.command()
def verify(
    ctx: typer.Context,
    tenant: OnlyTenant = None,
    seal: Annotated[
        bool,
        typer.Option(
            "--seal", help="When clean, seal the journal and print the head to keep elsewhere."
        ),
    ] = False,
    head: Annotated[
        str | None,
        typer.Option(metavar="HEX", help="A head printed by an earlier --seal (needs --tenant)."),
    ] = None,
) -> None:
    """Check balances and the journal; exit 1 if any discrepancy is found, 0 when clean.

    Checks, per tenant: each asset's balances sum to zero, every account's materialized totals
    equal its journal, every pending transfer is resolved at most once and holds match, every
    journal row matches its digest, every account the journal names exists, every seal matches
    the journal, and (with --head) that the exported head is still in the seals' chain.
    """
    if head is not None and tenant is None:
        output.error("validation_error", "--head names one tenant's seal: give --tenant too.")
        raise typer.Exit(2)
    reports: list[IntegrityReport] = []
    with ledger_of(ctx) as ledger, output.progress() as bar:
        for tenant_id in _tenant_ids(ledger, tenant):
            total = ledger.count_accounts(tenant_id)
            task = bar.add_task(f"verify {tenant_id}", total=total, unit="accounts")
            report = ledger.verify(tenant_id, output.advancer(bar, task), head)
            bar.update(task, total=report.accounts_checked, completed=report.accounts_checked)
            reports.append(report)
        seals = [ledger.seal(r.tenant_id) for r in reports if seal and r.ok]
    output.verify_reports(reports)
    output.seals(seals)
    if not all(report.ok for report in reports):
        raise typer.Exit(1)


@app.command()
def repair(
    ctx: typer.Context,
    tenant: OnlyTenant = None,
    actor: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Who runs the repair, recorded with it [default: your OS user name].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rebuild materialized balances and holds from the journal, and print what changed.

    The journal is never changed. Each repair is recorded with its actor and every value it
    changed. Run `verify` first to see what is wrong.
    """
    reports: list[RepairReport] = []
    with ledger_of(ctx) as ledger, output.progress() as bar:
        who = actor_or_os_user(actor)
        for tenant_id in _tenant_ids(ledger, tenant):
            total = ledger.count_accounts(tenant_id)
            task = bar.add_task(f"repair {tenant_id}", total=total, unit="accounts")
            report = ledger.repair(tenant_id, actor=who, progress=output.advancer(bar, task))
            bar.update(task, total=report.accounts_checked, completed=report.accounts_checked)
            reports.append(report)
    output.repair_reports(reports)


@jobs_app.command("run")
def jobs_run(ctx: typer.Context, tenant: OnlyTenant = None) -> None:
    """Run every service's due work now, for one tenant or all: expire holds and
    reservations, reset budget periods, expire points, refresh and close cycles.

    Safe to run twice, or from two processes at once: what is done is not done again. A step
    that fails stops neither the other steps nor the other tenants: it is recorded (see `jobs
    failures`), retried at the next run, and named on one line of standard error; the exit
    code is then 1.
    """
    with ledger_of(ctx) as ledger, output.progress() as bar:
        tenant_ids = _tenant_ids(ledger, tenant)
        task = bar.add_task("due jobs", total=len(tenant_ids) * len(jobs.STEPS), unit="steps")

        def on_step(tenant_id: str, name: str) -> None:
            bar.update(task, description=f"{tenant_id}: {name}", advance=1)

        reports = jobs.run_every_tenant(ledger, tenant_ids, on_step=on_step)
    output.emit_json({"tenants": [output.jobs_report_json(r) for r in reports]})
    failed = [(r.tenant_id, f) for r in reports for f in r.failures]
    for tenant_id, failure in failed:
        output.error(failure.code, output.step_failure_line(tenant_id, failure))
    if failed:
        raise typer.Exit(1)


@jobs_app.command("failures")
def jobs_failures(
    ctx: typer.Context,
    tenant: OnlyTenant = None,
    include_resolved: Annotated[
        bool, typer.Option("--include-resolved", help="Also the failures resolved since.")
    ] = False,
    step: Annotated[str | None, typer.Option(help="Only this step's failures.")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Last failed at or after (ISO 8601 with offset).")
    ] = None,
    limit: Limit = PAGE_SIZE_DEFAULT,
    cursor: Cursor = None,
) -> None:
    """The failed steps of due work, the latest first, as JSON, a page at a time: open ones
    (still failing at the last run) unless --include-resolved. Without -t, the first page of
    each tenant (no next_cursor)."""
    if cursor is not None and tenant is None:
        raise typer.BadParameter("--cursor continues one tenant's list: give -t TENANT too")
    found, next_cursor = [], None
    with ledger_of(ctx) as ledger:
        for tenant_id in _tenant_ids(ledger, tenant):
            page = jobs.failures_page(
                ledger,
                tenant_id,
                include_resolved=include_resolved,
                step=step,
                since=parse_time(since, "from"),
                cursor=cursor,
                limit=limit,
            )
            found += page.failures
            next_cursor = page.next_cursor if tenant is not None else None
    failures = [output.job_failure_json(f) for f in found]
    output.emit_json({"failures": failures, "next_cursor": next_cursor})


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    members: Annotated[
        int, typer.Option(min=1, max=DEMO_MEMBERS_MAX, help="How many members.")
    ] = demo.SMALL.members,
    days: Annotated[
        int, typer.Option(min=1, max=DEMO_DAYS_MAX, help="Days of activity, up to today.")
    ] = demo.SMALL.days,
    tenant: Annotated[
        str, typer.Option(metavar="ID", help="The tenant to create or complete.")
    ] = demo.DEMO_TENANT,
) -> None:
    """Fill the database with a demo loyalty programme (LUMIS points and USD cashback).

    Every id is derived from the member and the day, so running it again writes nothing new,
    and a larger --members or --days completes what an earlier run wrote.
    """
    size = demo.DemoSize(members=members, days=days)
    with ledger_of(ctx) as ledger, output.progress() as bar:
        task = bar.add_task(
            f"seeding {tenant}", total=demo.estimated_operations(size), unit="operations"
        )
        processed = 0

        def advance(count: int) -> None:
            nonlocal processed
            processed += count
            bar.advance(task, count)

        written = demo.seed(ledger, size, tenant_id=tenant, progress=advance)
        # The estimate is an upper bound: end the bar at what was actually done.
        bar.update(task, total=processed, completed=processed)
    options: Options = ctx.obj
    db = f" --db {shlex.quote(options.db)}" if options.db is not None else ""
    key_command = f"rewardledger{db} apikey create {tenant} --role admin"
    output.demo_summary(tenant, members, days, written, key_command)


def main() -> None:
    """The console script ``rewardledger``."""
    if not __debug__:
        refusal = UnsafeInterpreter()
        output.error(refusal.code, refusal.message)
        raise SystemExit(2)
    app(prog_name="rewardledger")


if __name__ == "__main__":
    main()
