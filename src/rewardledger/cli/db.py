"""``rewardledger db``: database administration that runs as the tables' owner."""

from __future__ import annotations

from typing import Annotated

import typer

from rewardledger.cli import output
from rewardledger.cli.context import database_url, open_at, reporting_errors
from rewardledger.domain.errors import ValidationError
from rewardledger.storage.engine import make_engine, safe_url
from rewardledger.storage.roles import DEFAULT_APP_ROLE, grant_app_role

db_app = typer.Typer(help="Database administration (as the tables' owner).", no_args_is_help=True)


@db_app.command("roles")
def roles(
    ctx: typer.Context,
    role: Annotated[
        str, typer.Option(metavar="NAME", help="The application's role.")
    ] = DEFAULT_APP_ROLE,
    login: Annotated[
        bool, typer.Option("--login", help="Create it with LOGIN (set its password yourself).")
    ] = False,
) -> None:
    """Migrate, then create the least-privilege role the server and CLI connect as (PostgreSQL).

    Run it as the tables' owner, again after every migration; it is idempotent. The role gets
    DML on the schema's tables, only SELECT and INSERT on the append-only ones, and owns
    nothing: it cannot alter tables, disable triggers or change session_replication_role.
    """
    with reporting_errors():
        url = database_url(ctx)
        with open_at(url):
            pass  # the schema is brought up to date as the owner first
        engine = make_engine(url)
        try:
            schema = grant_app_role(engine, role, login=login)
        except ValueError as error:
            raise ValidationError(str(error), field="role") from error
        finally:
            engine.dispose()
    output.line(f"role {role}: granted on schema {schema} of {safe_url(url)}")
