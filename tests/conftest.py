"""Shared fixtures: every storage test runs on SQLite and on a real PostgreSQL.

PostgreSQL is reached through ``REWARDLEDGER_TEST_POSTGRES_URL`` (default: the local server,
database ``test``). Each test session works in a schema of its own, dropped at the end, so
concurrent runs do not meet. When no server answers, PostgreSQL tests are skipped with a loud
message, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from rewardledger.bootstrap import Ledger
from rewardledger.storage.engine import make_engine
from rewardledger.storage.roles import grant_app_role
from rewardledger.storage.seed_views import derived_schema
from tests.builders import FakeClock

POSTGRES_URL = os.environ.get(
    "REWARDLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ENGINES = ("sqlite", "postgresql")

_postgres_problem: str | None = None
_THIS_FOLDER = "tests"  # the node id prefix of the fixtures defined here


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _check_postgres() -> str | None:
    try:
        with psycopg.connect(_conninfo(POSTGRES_URL), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}".strip()
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _postgres_problem  # noqa: PLW0603 - computed once per session
    _postgres_problem = _check_postgres()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``./dev test`` runs two processes, ``--dist loadgroup``), the tests
    that share something made once per module, package or session by their own folder (a live
    server, a browser, a big data set) run in one process, so that it is made once, not once
    per process. Every other test goes to whichever process is free."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = _shared_setup(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def _shared_setup(item: pytest.Item) -> str | None:
    """The module or folder whose shared fixtures ``item`` uses, if any. Those of this file
    (the session's database schemas) are cheap and made by every process anyway."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    module = item.nodeid.split("::")[0]
    widest: str | None = None
    for definitions in info.name2fixturedefs.values():
        definition = definitions[-1]
        if definition.baseid in ("", _THIS_FOLDER) or definition.scope in ("function", "class"):
            continue
        if definition.scope == "module":
            widest = widest or module
        else:  # package or session: every test of the folder that defines it
            return str(definition.baseid)
    return widest


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _postgres_problem is None:
        return [f"PostgreSQL tests: {POSTGRES_URL}"]
    banner = "!" * 78
    verdict = "CI=true, so PostgreSQL tests FAIL" if IN_CI else "PostgreSQL tests are SKIPPED"
    return [banner, f"{_postgres_problem}", verdict, banner]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_problem is not None and not IN_CI:
        terminalreporter.write_sep(
            "!", "PostgreSQL was not reachable: every PostgreSQL test was SKIPPED", red=True
        )
        terminalreporter.write_line(_postgres_problem)
        terminalreporter.write_line(
            "Start PostgreSQL or set REWARDLEDGER_TEST_POSTGRES_URL to run them."
        )


def require_postgres() -> None:
    if _postgres_problem is None:
        return
    if IN_CI:
        pytest.fail(f"{_postgres_problem} (CI=true: PostgreSQL tests must run)")
    pytest.skip(_postgres_problem)


APP_ROLE_SUFFIX = "_app"


def as_owner(url: str) -> str:
    """The same PostgreSQL database and schema as ``url``, reached as the tables' owner (the
    user of ``POSTGRES_URL``), for tests that work behind the application's back."""
    if not url.startswith("postgresql"):
        return url
    owner = make_url(POSTGRES_URL)
    return (
        make_url(url)
        .set(username=owner.username, password=owner.password)
        .render_as_string(hide_password=False)
    )


def _drop_role(connection: psycopg.Connection[Any], role: str) -> None:
    connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _drop_leftover_roles(connection: psycopg.Connection[Any]) -> None:
    """Drop the application roles of earlier sessions whose schema is gone (a session killed
    before its teardown); a live session's schema exists as long as its role does."""
    leftovers = connection.execute(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_namespace WHERE nspname = left(rolname, length(rolname) - %s))",
        (f"rl\\_test\\_%{APP_ROLE_SUFFIX}", len(APP_ROLE_SUFFIX)),
    ).fetchall()
    for (role,) in leftovers:
        with contextlib.suppress(psycopg.Error):  # another session dropped it first
            _drop_role(connection, role)


@pytest.fixture(scope="session")
def postgres_owner_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema private to this test session, as the
    owner of its tables (who migrates it)."""
    require_postgres()
    schema = f"rl_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_conninfo(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_conninfo(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            # The seeds' views live beside it, in <schema>_rewards (storage.seed_views).
            views = derived_schema(schema)
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(views))
            )


@pytest.fixture(scope="session")
def postgres_url(postgres_owner_url: str) -> Iterator[str]:
    """The session's schema as the application reaches it: migrated by the owner, then
    reached as a LOGIN role of its own made like ``rewardledger db roles`` (least privilege,
    row-level security applies; trust auth lets it in without a password)."""
    with Ledger.open(postgres_owner_url) as ledger:
        engine = ledger.store.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        role = f"{schema}{APP_ROLE_SUFFIX}"
        grant_app_role(engine, role, login=True)
    try:
        yield (
            make_url(postgres_owner_url)
            .set(username=role, password=None)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(_conninfo(POSTGRES_URL), autocommit=True) as connection:
            _drop_role(connection, role)
            _drop_leftover_roles(connection)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "ledger.db"
    return f"sqlite:///{path}"


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine_name: str, request: pytest.FixtureRequest) -> str:
    """The database URL of the engine under test (the schema is migrated on first open)."""
    if engine_name == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(db_url: str, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger.open(db_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def tenant_id(ledger: Ledger) -> str:
    """A fresh tenant per test: every test's data is isolated by tenant."""
    tenant = f"t{secrets.token_hex(6)}"
    ledger.create_tenant(tenant, timezone="America/Panama")
    return tenant


_owner_engines: dict[str, Engine] = {}


def owner_engine(ledger: Ledger) -> Engine:
    """An engine on ``ledger``'s database as the tables' owner, for tests that read or change
    rows behind the application's back (the application's own role could do neither across
    tenants); on SQLite, the ledger's engine itself. Disposed at the end of the session."""
    engine: Engine = ledger.store.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return engine
    return _owner_engine_at(engine.url.render_as_string(hide_password=False))


def _owner_engine_at(url: str) -> Engine:
    owner = as_owner(url)
    found = _owner_engines.get(owner)
    if found is None:
        found = _owner_engines[owner] = make_engine(owner)
    return found


FEED_WAIT_SECONDS = 30.0
FEED_POLL_SECONDS = 0.02
# True once every writing transaction older than the tenant's last outbox row has ended: the
# feed (storage.events) then shows all of the tenant's events.
_FEED_SHOWS_ALL = text(
    "SELECT coalesce(max(txid), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
    "FROM outbox WHERE tenant_id = :tenant"
)


def wait_for_feed(ledger: Ledger, tenant_id: str) -> None:
    """Wait, boundedly, until the event feed shows every event the tenant has written so far.

    On PostgreSQL the feed shows only rows written by transactions older than the oldest one
    still writing on the whole server, so a transaction of another test process or session
    hides fresh events for a moment; on SQLite a committed row is in the feed at once."""
    engine = owner_engine(ledger)
    if engine.dialect.name == "postgresql":
        _wait_for_feed(engine, tenant_id)


def wait_for_feed_at(url: str, tenant_id: str) -> None:
    """``wait_for_feed`` for the database at ``url`` (a server process's, say)."""
    if url.startswith("postgresql"):
        _wait_for_feed(_owner_engine_at(url), tenant_id)


def _wait_for_feed(engine: Engine, tenant_id: str) -> None:
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    with engine.connect() as connection:
        while not connection.execute(_FEED_SHOWS_ALL, {"tenant": tenant_id}).scalar_one():
            connection.rollback()
            assert time.monotonic() < deadline, (
                f"the feed did not show {tenant_id}'s events within {FEED_WAIT_SECONDS} s: "
                "a transaction of the server stayed open"
            )
            time.sleep(FEED_POLL_SECONDS)
        connection.rollback()


def pytest_sessionfinish(session: pytest.Session) -> None:
    for engine in _owner_engines.values():
        engine.dispose()
    _owner_engines.clear()
