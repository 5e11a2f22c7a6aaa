"""The HTTP API v1 application: ``create_app`` builds it around a ledger the caller owns;
``app_from_environment`` is the factory uvicorn runs (``rewardledger serve``).

Owns: the app's assembly (routes under /v1, /healthz, the problem handlers, OpenAPI with its
/docs and /redoc pages, served from packaged assets by ``docs_pages``) and the two ASGI guards
at its edge:
- ``_BodyLimit`` refuses a request body above ``REQUEST_BODY_BYTES_MAX`` (413) before anything
  parses it: by its Content-Length when declared, and by counting what is actually received
  otherwise, so a chunked body cannot slip past the limit;
- ``_InternalErrorGuard`` answers any exception nobody meant to raise with a 500 problem
  (``internal_error``) and logs its traceback under an incident id. Bad input never gets here:
  it is a ``LedgerError`` or a validation error, each with its 4xx. A lost database is not a
  bug: an exception that says so (``http.outages``) is answered 503 ``database_unavailable``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rewardledger import logs
from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.domain.errors import Busy
from rewardledger.domain.limits import REQUEST_BODY_BYTES_MAX
from rewardledger.http import (
    console,
    docs_pages,
    examples,
    group_commit,
    outages,
    problems,
    replays,
    summaries,
)
from rewardledger.http.metrics import Instrument
from rewardledger.http.routes import (
    accounts,
    assets,
    budget_periods,
    budgets,
    cashback,
    cycles,
    debt,
    events,
    health,
    integrity,
    jobs,
    lists,
    metrics,
    points,
    points_setup,
    redemptions,
    tenants,
    transfers,
    webhooks,
)
from rewardledger.http.throttle import AuthFailures
from rewardledger.services.access import KeyCache
from rewardledger.worker import STEPS, Schedule, Worker, relays

logger = logging.getLogger(__name__)

API_PREFIX = "/v1"
DESCRIPTION = """\
A double-entry ledger for loyalty programmes: points wallets, campaign budgets, cashback.

Tenant routes take `Authorization: Bearer rlk_...`, an API key of the tenant in the path.
Amounts are decimal strings (`"12.50"`), times ISO 8601 with an offset. A write's idempotency
key is the `Idempotency-Key` header or `idempotency_key` in the body: a replay is answered with
the first result, 200 and `Idempotent-Replayed: true`.
Every error is `application/problem+json` with a stable `code`.
"""

# What any /v1 route can answer, whatever it does: its input refused, its caller refused or
# throttled, its tenant unknown, its body too large, its database lost. Each route adds its own.
EVERY_ROUTE_PROBLEMS = problems.documented(
    "validation_error",
    "unauthorized",
    "forbidden",
    "not_found",
    "payload_too_large",
    "too_many_failed_authentications",
    "database_unavailable",
)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(ledger: Ledger, settings: Settings) -> FastAPI:
    """The API over ``ledger``, which the caller opens and closes."""
    app = _build(settings)
    app.state.ledger = ledger
    return app


def app_from_environment() -> FastAPI:
    """The API over the database named by the environment (REWARDLEDGER_DATABASE_URL).

    Settings are read now, so that bad ones fail before serving. The ledger is opened when the
    server starts (without migrating: ``rewardledger serve`` migrates once, before its workers
    start) and closed when it stops. With ``REWARDLEDGER_EMBEDDED_WORKER`` (``serve`` sets it)
    a worker runs in a thread of this process until the server stops; it finishes the step it
    is running first.
    """
    settings = Settings()
    logs.configure(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = await run_in_threadpool(Ledger.open, settings.database_url, migrate=False)
        app.state.ledger = ledger
        relays.enable_from(settings)
        worker = Worker(ledger, list(STEPS.values()), Schedule.from_settings(settings))
        thread = threading.Thread(target=worker.run_forever, name="rewardledger-worker")
        if settings.embedded_worker:
            thread.start()
        try:
            yield
        finally:
            worker.stop.set()
            if thread.is_alive():
                await run_in_threadpool(thread.join)
            await run_in_threadpool(ledger.close)

    return _build(settings, lifespan)


def _build(settings: Settings, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="rewardledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by docs_pages from packaged assets: FastAPI's own pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
        # The first is outermost: a bug in the body limit is still answered as a problem.
        middleware=[
            Middleware(Instrument, api_prefix=API_PREFIX),
            Middleware(_InternalErrorGuard),
            Middleware(_BodyLimit, limit_bytes=REQUEST_BODY_BYTES_MAX),
        ],
    )
    app.state.settings = settings
    app.state.auth_failures = AuthFailures()
    app.state.api_keys = KeyCache(settings.api_key_cache_seconds)
    app.state.group_commit = group_commit.GroupCommit() if settings.group_commit else None
    problems.install(app)
    docs_pages.install(app)
    replays.install(app)
    examples.install(app)
    app.add_exception_handler(Busy, outages.on_busy)
    summaries.install(health.router)
    app.include_router(health.router)
    console.install(app, settings)
    app.include_router(metrics.router)
    # Services add their routers to this tuple (one name each).
    for module in (
        tenants,
        assets,
        accounts,
        transfers,
        integrity,
        jobs,
        budget_periods,
        budgets,
        points_setup,  # before points: its fixed paths win over /points/{holder}
        points,
        redemptions,
        cashback,
        debt,
        cycles,
        webhooks,
        events,
        lists,
    ):
        summaries.install(module.router)
        app.include_router(module.router, prefix=API_PREFIX, responses=EVERY_ROUTE_PROBLEMS)
    return app


class _BodyLimit:
    """Read the request body up to ``limit_bytes``, or answer 413 without reading further.

    The body is read here in full (FastAPI would read it whole anyway before parsing) and
    handed on unchanged; a request whose body is too large never reaches a route.
    """

    def __init__(self, app: ASGIApp, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.limit_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; there is nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem_response(
            problems.PayloadTooLarge(self.limit_bytes),
            scope.get("path"),
            {"Connection": "close"},
        )
        await response(scope, receive, send)


class _InternalErrorGuard:
    """Turn an unexpected exception into a logged 500 problem, if no response has started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if outages.is_database_loss(error) and not started:
                logger.warning(
                    "Database lost during %s %s: %s", scope.get("method"), scope.get("path"), error
                )
                lost = problems.problem_response(outages.DatabaseLost(), scope.get("path"))
                await lost(scope, receive, send)
                return
            incident = secrets.token_hex(8)
            logger.exception(
                "Unexpected error (incident %s) on %s %s",
                incident,
                scope.get("method"),
                scope.get("path"),
            )
            if started:
                raise
            response = problems.problem_response(
                problems.InternalError(incident), scope.get("path")
            )
            await response(scope, receive, send)
