"""``rewardledger serve``: migrate, then serve the HTTP API with uvicorn, with a worker inside.

Owns: serve's options and what it checks before anything runs, how it hands the database,
the embedded worker and the metrics directory to uvicorn's worker processes (environment
variables read back by ``Settings``), and the banner.

The embedded worker (``worker.Worker`` in a thread of each server process) is on by default on
SQLite, where one process does everything, and off on PostgreSQL, where the worker is meant to
run as processes of its own (``rewardledger worker``) that can be scaled and restarted apart
from the API; ``--worker`` turns it on there too (each server process then runs one: their
claims keep them from running a step twice), ``--no-worker`` turns it off on SQLite.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from typing import Annotated

import typer

from rewardledger import logs
from rewardledger.cli import output
from rewardledger.cli.context import (
    CliFailure,
    database_url,
    ledger_of,
    reporting_errors,
    settings_from,
)
from rewardledger.cli.demo_key import DemoAccess, demo_access, key_file
from rewardledger.config import Settings
from rewardledger.domain.errors import ValidationError
from rewardledger.ledger.engine import Ledger
from rewardledger.services import demo
from rewardledger.storage.engine import create_database, normalise_url, safe_url

WORKERS_MAX = 64
HTTP_APP_MODULE = "rewardledger.http.app"
HTTP_APP_FACTORY = f"{HTTP_APP_MODULE}:app_from_environment"
# The variables through which ``serve`` hands its choices to its worker processes; the
# workers read them back through ``Settings`` (config.py).
DATABASE_URL_VARIABLE = "REWARDLEDGER_DATABASE_URL"
EMBEDDED_WORKER_VARIABLE = "REWARDLEDGER_EMBEDDED_WORKER"
LOG_FORMAT_VARIABLE = "REWARDLEDGER_LOG_FORMAT"
# prometheus-client's own: the processes of ``--workers N`` count their metrics in files there.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

LogFormatOption = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        help="json (one JSON line per event) or console [default: REWARDLEDGER_LOG_FORMAT, "
        "else json].",
        show_default=False,
    ),
]


def log_format_of(given: str | None, settings: Settings) -> logs.LogFormat:
    """--log-format if given (checked), else the settings'."""
    if given is None:
        return settings.log_format
    for known in logs.LOG_FORMATS:
        if given == known:
            return known
    raise ValidationError(
        f"--log-format must be one of {', '.join(logs.LOG_FORMATS)}, not {given!r}.",
        field="log_format",
    )


CreateDbOption = Annotated[
    bool,
    typer.Option(
        "--create-db",
        help="Create the PostgreSQL database first if it does not exist (connecting to "
        "the server's 'postgres' database; needs the CREATEDB privilege). On SQLite: "
        "create the file's folder.",
    ),
]


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on [default: REWARDLEDGER_HOST, else 127.0.0.1]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port to listen on [default: REWARDLEDGER_PORT, else 8000]."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=WORKERS_MAX,
            help="Worker processes. More than 1 needs PostgreSQL and is refused on SQLite, "
            "which takes one writer per file: extra workers would only wait on each other's "
            "write lock.",
        ),
    ] = 1,
    no_demo: Annotated[
        bool,
        typer.Option("--no-demo", help="Do not seed the demo tenant, nor show its demo key."),
    ] = False,
    create_db: CreateDbOption = False,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run the due steps and relays in each server process [default: on with "
            "SQLite, off with PostgreSQL, where `rewardledger worker` runs them].",
            show_default=False,
        ),
    ] = None,
    log_format: LogFormatOption = None,
) -> None:
    """Migrate the database, then serve the HTTP API (and its OpenAPI docs) with uvicorn.

    On an empty database (no tenants) the demo programme is seeded first, unless --no-demo.
    Unless --no-demo, the demo tenant's admin key is printed with a curl example: minted at the
    first start, kept in a file only you can read (mode 0600; beside a SQLite file, else in
    REWARDLEDGER_STATE_DIR or ~/.local/state/rewardledger) and shown again from it.
    Several workers on one PostgreSQL database are safe: migrations take an advisory lock and
    every write locks the rows it checks. On SQLite, --workers must stay 1.
    The due steps (expiries, resets, cycles, relays) run in each server process on SQLite
    unless --no-worker; on PostgreSQL only with --worker (else run `rewardledger worker`).
    """
    with reporting_errors():
        url = database_url(ctx)
        settings = _serve_settings(url, workers, create_db=create_db)
        chosen_format = log_format_of(log_format, settings)
    embedded = worker if worker is not None else url.startswith("sqlite")
    listen_host = host if host is not None else settings.host
    listen_port = port if port is not None else settings.port
    with ledger_of(ctx) as ledger:  # migrates the database first
        shown = None if no_demo else _demo_access(ledger, url, settings)
    _banner(url, _base_url(listen_host, listen_port), workers, shown)
    os.environ[EMBEDDED_WORKER_VARIABLE] = "true" if embedded else "false"
    os.environ[LOG_FORMAT_VARIABLE] = chosen_format
    _run_uvicorn(url, listen_host, listen_port, workers, settings)


def _banner(url: str, base_url: str, workers: int, shown: DemoAccess | None) -> None:
    output.serve_banner(
        database_url=url,
        base_url=base_url,
        workers=workers,
        demo_tenant=shown.tenant if shown else None,
        demo_key=shown.key if shown else None,
        demo_account=demo.member_wallet(0),
        demo_key_file=shown.path if shown else None,
        demo_key_minted=shown.minted_now if shown else False,
    )
    sys.stdout.flush()


def _demo_access(ledger: Ledger, url: str, settings: Settings) -> DemoAccess | None:
    """The demo tenant's access (seeded on an empty database), its key kept in a 0600 file."""
    sqlite_file = normalise_url(url).database if url.startswith("sqlite") else None
    path = key_file(sqlite_file, safe_url(url), settings.state_dir)
    return demo_access(ledger, path)


# How long uvicorn's supervisor waits for a server process to answer its health check. Its
# default (5 s) is shorter than several processes importing the app at once on a busy 2-core
# machine, which it then takes for dead and restarts, over and over.
WORKER_START_SECONDS = 30


def _run_uvicorn(url: str, host: str, port: int, workers: int, settings: Settings) -> None:
    import uvicorn

    from rewardledger.cli.http_protocol import HTTP_PROTOCOL

    os.environ[DATABASE_URL_VARIABLE] = url  # read back by Settings in each worker
    # Several processes: each counts its metrics in files of a directory made for this run
    # (unless the operator named one), which /metrics sums; it goes when serve stops.
    made = None
    if workers > 1 and settings.metrics_dir is None:
        made = tempfile.mkdtemp(prefix="rewardledger-metrics-")
        os.environ[METRICS_DIR_VARIABLE] = made
    try:
        uvicorn.run(
            HTTP_APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # loop: uvicorn's "auto", uvloop where installed. http: httptools where installed,
            # with Nagle off with any number of workers (see http_protocol.py).
            http=HTTP_PROTOCOL,
            timeout_worker_healthcheck=WORKER_START_SECONDS,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _serve_settings(url: str, workers: int, *, create_db: bool) -> Settings:
    """What ``serve`` checks before anything runs, so that it fails here and not in each
    worker; and the database created when ``--create-db`` asks it."""
    settings = settings_from(url)
    if workers > 1 and url.startswith("sqlite"):
        raise ValidationError(
            f"--workers {workers} needs PostgreSQL: SQLite allows one writer per file, so "
            "extra workers would only wait on each other's write lock. Run with --workers 1, "
            "or use --db postgresql://user@host:5432/database.",
            field="workers",
        )
    _check_http_app()
    if create_db and create_database(url):
        output.note(f"Created the database {safe_url(url)}.")
    return settings


def _check_http_app() -> None:
    try:
        importlib.import_module(HTTP_APP_MODULE)
    except ImportError as error:
        raise CliFailure(
            "server_unavailable",
            f"The HTTP API cannot be loaded ({error}); reinstall rewardledger with its "
            "dependencies (pip install rewardledger).",
        ) from None


def _base_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach ``host:port``."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
