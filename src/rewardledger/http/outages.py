"""Outages: a request during which the database is lost is a 503 ``database_unavailable``.

Owns: telling a lost database apart from a bug at the edge, and the answer a client gets for
it. A lost database shows up as a driver or pool error (connection refused, server closed the
connection, SQLite cannot open its file), directly or as the cause of another error; a write
that kept failing on a dropped connection comes out of the engine as ``busy``, so a ``busy``
is checked against the database once before it is answered. Either way the client gets
``database_unavailable`` with ``Retry-After``, never ``internal_error``; the process keeps no
state about it, so the next request after the database is back is served as usual (the
connection pool replaces the connections it lost).
"""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa
from starlette.concurrency import run_in_threadpool

from rewardledger.domain.errors import Busy, DatabaseUnavailable, LedgerError, RetryableError
from rewardledger.http import problems
from rewardledger.ledger.engine import Ledger

logger = logging.getLogger(__name__)

# What SQLite says when its file or folder is gone, unreadable or full (contention is "locked",
# which is retried as busy instead).
_SQLITE_LOST = (
    "unable to open database",
    "disk i/o error",
    "no such table",
    "readonly database",
    "database or disk is full",
    "file is not a database",
    "database disk image is malformed",
)
_CHAIN_DEPTH_MAX = 16


class DatabaseLost(LedgerError):
    """The database could not be reached while the request ran; nothing says it was applied."""

    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The database cannot be reached right now, so the request may not have been "
            "applied. Retry it after Retry-After seconds with the same id: repeating it is "
            "safe. If this lasts, the operator should check the database server or file."
        )


def _lost(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable | ConnectionError):
        return True
    if isinstance(error, sa.DisconnectionError | sa.TimeoutError | sa.InterfaceError):
        return True
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, psycopg.Error):
        return _postgres_lost(error)
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        text = str(error).lower()
        return any(sign in text for sign in _SQLITE_LOST)
    return False


def _postgres_lost(error: psycopg.Error) -> bool:
    if isinstance(error, psycopg.InterfaceError):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    # No SQLSTATE: the connection failed or broke. Else: a connection exception (08...), the
    # server shutting down or starting (57P...), or out of resources (53...).
    state = error.sqlstate
    return state is None or state.startswith(("08", "57P", "53"))


def is_database_loss(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the database was lost."""
    seen: BaseException | None = error
    for _ in range(_CHAIN_DEPTH_MAX):
        if seen is None:
            return False
        if _lost(seen):
            return True
        orig = getattr(seen, "orig", None)
        if isinstance(orig, BaseException) and _lost(orig):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def reachable(ledger: Ledger) -> bool:
    """One round trip: the database answers and holds a migrated rewardledger schema."""
    try:
        ledger.store.ping()
        return ledger.schema_revision() is not None
    except (LedgerError, RetryableError, sa.SQLAlchemyError, OSError, sqlite3.Error) as error:
        logger.warning("Database readiness check failed: %s", error)
        return False


async def on_busy(request: Request, exc: Exception) -> JSONResponse:
    """``busy``, unless the database cannot be reached: then the writes failed for that."""
    assert isinstance(exc, Busy)
    ledger: Ledger = request.app.state.ledger
    if not await run_in_threadpool(reachable, ledger):
        return problems.problem_response(DatabaseLost(), request.url.path)
    return problems.problem_response(exc, request.url.path)
