"""``rewardledger worker``: the process that runs every due step on its own schedule.

Owns: the command's options, its signal handling and its output. Until SIGINT or SIGTERM it
runs the registry's steps (``worker.steps``) as they fall due, then finishes the step it is
running, gives back the claims it has not started and exits 0. ``--once`` runs what is due
now, once, prints what it did as JSON and exits: 0, or 1 with one line per failed step on
standard error (as ``jobs run``). Progress and failures are logged as one JSON line per event
on standard error (``--log-format console`` for people).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import prometheus_client
import typer

from rewardledger import logs
from rewardledger.cli import output
from rewardledger.cli.context import database_url, ledger_of, reporting_errors, settings_from
from rewardledger.cli.serve import LogFormatOption, log_format_of
from rewardledger.domain.errors import ValidationError
from rewardledger.worker import STEPS, Schedule, Step, StepRun, Worker, relays

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The worker's metrics are for a scraper on this machine (or a sidecar), never the network.
METRICS_HOST = "127.0.0.1"


def worker(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now, once, and exit.")
    ] = False,
    step: Annotated[
        list[str] | None,
        typer.Option("--step", metavar="NAME", help="Only this step (repeatable) [default: all]."),
    ] = None,
    tenant: Annotated[
        list[str] | None,
        typer.Option(
            "--tenant", "-t", metavar="TENANT", help="Only this tenant (repeatable) [default: all]."
        ),
    ] = None,
    log_format: LogFormatOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            metavar="PORT",
            help="Serve this worker's metrics (step runs, failures, durations) in the "
            "Prometheus format on 127.0.0.1:PORT/metrics [default: none].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the due steps (expiries, budget resets, cycles, the daily reconciliation and
    expiring-soon reminders, event relays), each on its own schedule, until SIGINT or SIGTERM.

    Intervals come from REWARDLEDGER_WORKER_SCHEDULE (docs/operations.md). Any number of
    workers may run against one PostgreSQL database: a step of a tenant runs in one of them per
    due time. On a signal the worker finishes its current step and exits; a worker killed
    outright leaves its steps to the others once its lease (REWARDLEDGER_WORKER_LEASE_SECONDS)
    runs out. A failed step is recorded (see `jobs failures`) and tried at its next due time.
    """
    with reporting_errors():
        settings = settings_from(database_url(ctx))
        chosen_format = log_format_of(log_format, settings)
        relays.enable_from(settings)
        steps = _chosen_steps(step)
        schedule = Schedule.from_settings(settings)
        unknown = schedule.unknown_steps(list(STEPS))
        if unknown:
            raise ValidationError(
                f"REWARDLEDGER_WORKER_SCHEDULE names no step {', '.join(unknown)}; the steps "
                f"are {', '.join(STEPS)}.",
                field="worker_schedule",
            )
    logs.configure(chosen_format)
    with ledger_of(ctx) as ledger:
        for tenant_id in tenant or []:
            ledger.get_tenant(tenant_id)
        runner = Worker(ledger, steps, schedule, tenant_ids=tenant or None)
        if once:
            runs = runner.run_due()
        else:
            if metrics_port is not None:
                prometheus_client.start_http_server(metrics_port, addr=METRICS_HOST)
            with _stopping(runner):
                runner.run_forever()
            return
    _report(runs)


def _chosen_steps(names: list[str] | None) -> list[Step]:
    if not names:
        return list(STEPS.values())
    unknown = [name for name in names if name not in STEPS]
    if unknown:
        raise ValidationError(
            f"No worker step {', '.join(unknown)}; the steps are {', '.join(STEPS)}.",
            field="step",
        )
    return [STEPS[name] for name in dict.fromkeys(names)]


@contextmanager
def _stopping(runner: Worker) -> Iterator[None]:
    """SIGINT and SIGTERM set the worker's stop (it finishes its step), then are restored."""

    def stop(signum: int, frame: FrameType | None) -> None:
        runner.stop.set()

    before = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _report(runs: list[StepRun]) -> None:
    output.emit_json({"runs": [_run_json(run) for run in runs]})
    failed = [run for run in runs if run.failure is not None]
    for run in failed:
        assert run.failure is not None
        output.error(run.failure.code, output.step_failure_line(run.tenant_id, run.failure))
    if failed:
        raise typer.Exit(1)


def _run_json(run: StepRun) -> dict[str, Any]:
    found: dict[str, Any] = {
        "tenant_id": run.tenant_id,
        "step": run.step,
        "due_at": run.due_at.isoformat(),
    }
    if run.failure is None:
        found["counts"] = run.counts
    else:
        found["failure"] = {
            "code": run.failure.code,
            "message": run.failure.message,
            "attempts": run.failure.attempts,
        }
    return found
