"""What every command shares: the global options, opening the ledger at ``--db``, the user,
and turning errors into ``error <code>: <message>`` and an exit code.

Its own module, below ``cli.main`` and every command group, so that the groups
(``cli.budgets``, ``cli.points``, ``cli.cycles``) import it directly: ``cli.main`` imports
them to register them, and may itself run as ``__main__``.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import pydantic
import typer

from rewardledger.bootstrap import Ledger
from rewardledger.cli import output
from rewardledger.config import Settings
from rewardledger.domain.errors import LedgerError, ValidationError
from rewardledger.domain.limits import PAGE_SIZE_MAX


@dataclass(frozen=True, slots=True)
class Options:
    """The global options, given before the command."""

    db: str | None


class CliFailure(Exception):
    """A failure outside the ledger's error tree: the database or the server cannot start."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def exit_code(error: LedgerError) -> int:
    return 2 if error.code == ValidationError.code else 1


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn the errors a user can cause into ``error <code>: <message>`` and an exit code."""
    try:
        yield
    except LedgerError as error:
        output.error(error.code, error.message)
        raise typer.Exit(exit_code(error)) from None
    except CliFailure as failure:
        output.error(failure.code, failure.message)
        raise typer.Exit(1) from None


def settings_from(database_url: str | None = None) -> Settings:
    """Settings from the environment; ``database_url``, when given, wins over it."""
    try:
        if database_url is None:
            return Settings()
        return Settings(database_url=database_url)
    except pydantic.ValidationError as error:
        problems = []
        for problem in error.errors():
            variable = "REWARDLEDGER_" + str(problem["loc"][0]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            if not message.startswith(variable):
                message = f"{variable}: {message}"
            if database_url is not None:  # it came from --db, not from the environment
                message = message.replace("REWARDLEDGER_DATABASE_URL", "--db")
            problems.append(message)
        raise ValidationError("; ".join(problems), field="settings") from None


def database_url(ctx: typer.Context) -> str:
    options: Options = ctx.obj
    return options.db if options.db is not None else settings_from().database_url


def open_at(url: str) -> Ledger:
    """Open the ledger at ``url``, bringing its schema up to date (a no-op when it is).

    An unreachable database is a ``database_unavailable`` LedgerError, reported as such.
    """
    return Ledger.open(url)


@contextmanager
def ledger_of(ctx: typer.Context) -> Iterator[Ledger]:
    with reporting_errors():
        ledger = open_at(database_url(ctx))
        try:
            yield ledger
        finally:
            ledger.close()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError) as error:
        raise ValidationError(
            "Could not tell who you are (no OS user name); pass --actor NAME.", field="actor"
        ) from error


def actor_or_os_user(actor: str | None) -> str:
    """Who a recorded change is by: ``--actor`` when given, else the OS user."""
    return actor if actor is not None else os_user()


def parse_time(value: str | None, field: str, *, offset: bool = True) -> datetime | None:
    """``value`` as an ISO 8601 time (None stays None), for option ``field``: with an offset,
    unless ``offset`` is false (the cycle commands take a time without one too)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or (offset and parsed.tzinfo is None):
        wanted = " with an offset" if offset else ""
        raise ValidationError(f"{field} must be an ISO 8601 time{wanted}.", field=field)
    return parsed


# The tenant a command works in: every tenant command takes it as ``--tenant``/``-t``.
Tenant = Annotated[str, typer.Option("--tenant", "-t", metavar="TENANT", help="The tenant.")]
# The commands that work in every tenant unless told one.
OnlyTenant = Annotated[
    str | None,
    typer.Option("--tenant", "-t", metavar="TENANT", help="Only this tenant [default: all]."),
]

# Every paged list's options: one page of at most ``--limit`` rows, after ``--cursor`` (the
# ``next_cursor`` the previous page printed).
Limit = Annotated[int, typer.Option(min=1, max=PAGE_SIZE_MAX, help="Rows per page.")]
Cursor = Annotated[str | None, typer.Option(help="The next_cursor of the previous page.")]
