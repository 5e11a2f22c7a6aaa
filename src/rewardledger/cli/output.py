"""How the command line shows its results: JSON, tables, progress bars, errors, the banner.

Owns: every byte the CLI writes. Results go to standard output (JSON where a program will read
them: keys, tenants); progress bars, notes and errors go to standard error, so that
``rewardledger tenant create acme > acme.json`` captures only the JSON. Lines a user copies
(keys, URLs, the curl example) are never wrapped, whatever the terminal's width.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from rewardledger.domain.jobs import JobFailure
from rewardledger.domain.reconciliation import JournalSeal
from rewardledger.domain.tenants import Tenant
from rewardledger.ledger.results import Discrepancy, IntegrityReport, RepairReport
from rewardledger.services.access import IssuedKey
from rewardledger.services.jobs import JobsReport, StepFailure
from rewardledger.storage.engine import safe_url  # the one password mask (SQLAlchemy's URL)


def _stdout() -> Console:
    # Made per call, not at import: the console must write to the sys.stdout of the moment.
    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def error(code: str, message: str) -> None:
    """``error <code>: <message>`` in red on standard error."""
    _stderr().print(f"[red]error {escape(code)}: {escape(message)}[/red]", soft_wrap=True)


def note(message: str) -> None:
    _stderr().print(message, soft_wrap=True, markup=False)


def line(message: str) -> None:
    _stdout().print(message, soft_wrap=True, markup=False)


def emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, indent=2))


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "created_at": tenant.created_at.isoformat(),
    }


def key_json(issued: IssuedKey) -> dict[str, Any]:
    return {
        "tenant_id": issued.tenant_id,
        "key_id": issued.key_id,
        "role": issued.role.value,
        "label": issued.label,
        "key": issued.key,
    }


def jobs_report_json(report: JobsReport) -> dict[str, Any]:
    return {
        "tenant_id": report.tenant_id,
        "steps": report.steps,
        "failures": [
            {"step": f.step, "code": f.code, "message": f.message, "attempts": f.attempts}
            for f in report.failures
        ],
    }


def step_failure_line(tenant_id: str, failure: StepFailure) -> str:
    """One line per failed step: where, how often, and what to do next."""
    if failure.attempts is None:
        tried = "could not be recorded"
    else:
        tried = f"attempt {failure.attempts}, retried at the next run"
    return (
        f"tenant {tenant_id}, step {failure.step} failed ({tried}): {failure.message} "
        f"(list: rewardledger jobs failures -t {tenant_id})"
    )


def job_failure_json(failure: JobFailure) -> dict[str, Any]:
    resolved = failure.resolved_at
    return {
        "failure_id": failure.failure_id,
        "tenant_id": failure.tenant_id,
        "step": failure.step,
        "code": failure.code,
        "message": failure.message,
        "attempts": failure.attempts,
        "first_failed_at": failure.first_failed_at.isoformat(),
        "last_failed_at": failure.last_failed_at.isoformat(),
        "resolved_at": resolved.isoformat() if resolved is not None else None,
    }


def progress() -> Progress:
    """A progress bar on standard error; tasks carry a ``unit`` field ("accounts"). Where a
    task's total is known, the bar shows the time left too."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>7,.0f} {task.fields[unit]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_stderr(),
    )


def progress_with_total() -> Progress:
    """A progress bar for work whose total is known: done of total, elapsed, and the ETA."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>9,.0f} of {task.total:,.0f} {task.fields[unit]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=_stderr(),
    )


def advancer(bar: Progress, task: TaskID) -> Callable[[int], None]:
    """A progress callback (the engine's and the demo's) that moves ``task`` forward."""

    def advance(count: int) -> None:
        bar.advance(task, count)

    return advance


def _discrepancy_table(rows: Sequence[Discrepancy], old: str, new: str) -> Table:
    table = Table("check", "subject", "field", new, old)
    for row in rows:
        table.add_row(
            row.check, row.subject, row.field or "", row.journal or "", row.materialized or ""
        )
    return table


def _more(console: Console, count: int, listed: int, where: str = "") -> None:
    if count > listed:
        console.print(
            f"... and {count - listed} more, not listed "
            f"(a report lists the first {listed}){where}.",
            markup=False,
        )


def _tenants_console(reports: Sequence[object], verb: str) -> Console:
    """Standard output for one report per tenant, saying so first when there is none."""
    console = _stdout()
    if not reports:
        console.print(f"No tenants to {verb}: the database has none.")
    return console


def verify_reports(reports: Sequence[IntegrityReport]) -> None:
    console = _tenants_console(reports, "verify")
    for report in reports:
        counted = f"{report.accounts_checked} accounts checked"
        if report.ok:
            console.print(f"tenant {report.tenant_id}: clean ({counted})", markup=False)
            continue
        found = f"{report.discrepancy_count} discrepancies"
        console.print(f"tenant {report.tenant_id}: {found} ({counted})", markup=False)
        console.print(_discrepancy_table(report.discrepancies, "materialized", "journal"))
        _more(console, report.discrepancy_count, len(report.discrepancies))
        console.print(
            f"Run `rewardledger repair --tenant {report.tenant_id}` to rebuild the "
            "materialized balances from the journal (the journal itself is never changed).",
            markup=False,
            soft_wrap=True,
        )


def seals(sealed: Sequence[JournalSeal]) -> None:
    """One line per seal; the head is what to keep outside the database."""
    console = _stdout()
    for seal in sealed:
        console.print(
            f"tenant {seal.tenant_id}: sealed #{seal.seal_seq} up to "
            f"{seal.cutoff_at.isoformat()} ({seal.rows_count} rows, {seal.accounts_count} "
            f"accounts); head {seal.head}",
            markup=False,
            soft_wrap=True,
        )


def repair_reports(reports: Sequence[RepairReport]) -> None:
    console = _tenants_console(reports, "repair")
    for report in reports:
        head = (
            f"tenant {report.tenant_id}: repair {report.repair_id} by {report.actor}, "
            f"{report.accounts_checked} accounts checked"
        )
        if report.change_count == 0:
            console.print(f"{head}: nothing to change, it was clean", markup=False)
            continue
        console.print(f"{head}: {report.change_count} changes", markup=False)
        console.print(_discrepancy_table(report.changes, "was", "now (from the journal)"))
        recorded = f"; all are recorded in the database under repair {report.repair_id}"
        _more(console, report.change_count, len(report.changes), recorded)


def demo_summary(tenant_id: str, members: int, days: int, written: int, key_command: str) -> None:
    console = _stdout()
    console.print(f"Demo programme in tenant {tenant_id}:", markup=False)
    console.print(f"  members      {members}", markup=False)
    console.print(f"  days         {days}", markup=False)
    console.print(
        f"  transfers    {written} written (ids are derived from member and day, so a "
        "second run replays them and writes nothing new)",
        markup=False,
        soft_wrap=True,
    )
    console.print("Get an API key for it with:", markup=False)
    console.print(f"  {key_command}", markup=False, soft_wrap=True)


def serve_banner(
    *,
    database_url: str,
    base_url: str,
    workers: int,
    demo_tenant: Tenant | None,
    demo_key: IssuedKey | None,
    demo_account: str,
    demo_key_file: Path | None = None,
    demo_key_minted: bool = False,
) -> None:
    """What ``serve`` prints before the server starts; the key appears nowhere else."""
    console = _stdout()

    def show(text: str) -> None:
        console.print(text, markup=False, soft_wrap=True)

    show(f"rewardledger serving {safe_url(database_url)} with {workers} worker(s)")
    show(f"  API        {base_url}")
    show(f"  API docs   {base_url}/docs   (OpenAPI schema: {base_url}/openapi.json)")
    show(f"  health     {base_url}/healthz")
    if demo_tenant is None or demo_key is None:
        return
    account_url = f"{base_url}/v1/tenants/{demo_tenant.id}/accounts/{demo_account}"
    authorization = shlex.quote(f"Authorization: Bearer {demo_key.key}")
    show(f"Demo tenant  {demo_tenant.id}  ({demo_tenant.name})")
    show(f"  API key    {demo_key.key}")
    when = "minted at this start" if demo_key_minted else "minted at the first start"
    show(f"             {demo_key.role.value} key {when}, once for this database")
    if demo_key_file is not None:
        show(f"             kept in {demo_key_file} (mode 0600), shown again at each start")
    show("  Try it:")
    show(f"    curl -H {authorization} {shlex.quote(account_url)}")
