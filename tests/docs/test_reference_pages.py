"""docs/http.md lists exactly the app's routes, and docs/cli.md exactly the Typer commands.

Both sides are read live: the routes from the FastAPI app that ``rewardledger serve`` runs
(every ``APIRoute``, as ``METHOD /path`` exactly as the app writes it), the commands from the
click tree Typer builds (every command path, such as ``rewardledger points earn``). A route or
command missing from its page fails, and so does a page naming one that no longer exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from fastapi.routing import APIRoute, iter_route_contexts

from rewardledger.cli.main import app as cli_app
from rewardledger.http.app import app_from_environment

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
COMMAND = re.compile(r"`(rewardledger(?: [a-z][a-z-]*)*)")


def app_routes() -> set[str]:
    """``METHOD /path`` of every API route of the live app (included routers flattened)."""
    found = set()
    for context in iter_route_contexts(app_from_environment().routes):
        if isinstance(context.original_route, APIRoute):
            for method in context.methods or ():
                found.add(f"{method} {context.path}")
    return found


def cli_commands() -> set[str]:
    """Every command path of the live Typer app, groups included (``rewardledger budget``)."""
    found: set[str] = set()

    def walk(command: object, path: str) -> None:
        found.add(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(cli_app), "rewardledger")
    return found


def first_cells(page: str) -> list[str]:
    """The first cell of every table row of ``docs/<page>`` (header separators left out)."""
    cells = []
    for line in (DOCS / page).read_text().splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            cells.append(line.split("|")[1])
    return cells


def documented_routes() -> set[str]:
    return {f"{m} {p}" for cell in first_cells("http.md") for m, p in ROUTE.findall(cell)}


def documented_commands() -> set[str]:
    return {found for cell in first_cells("cli.md") for found in COMMAND.findall(cell)}


def test_the_walkers_find_known_routes_and_commands() -> None:
    routes = app_routes()
    assert {"GET /healthz", "GET /v1/tenants/{tid}/budgets", "POST /v1/tenants"} <= routes
    assert len(routes) > 50
    commands = cli_commands()
    assert {"rewardledger migrate", "rewardledger points earn", "rewardledger cycles"} <= commands
    assert len(commands) > 50
    assert "GET /v1/tenants/{tid}/budgets" in documented_routes()
    assert "rewardledger points earn" in documented_commands()


def test_http_md_lists_every_route_of_the_app_and_no_other() -> None:
    routes, documented = app_routes(), documented_routes()
    assert sorted(routes - documented) == [], "routes missing from docs/http.md"
    assert sorted(documented - routes) == [], "docs/http.md lists routes the app lacks"


def test_cli_md_lists_every_command_of_the_cli_and_no_other() -> None:
    commands = {c for c in cli_commands() if c != "rewardledger"}
    documented = documented_commands() - {"rewardledger"}
    assert sorted(commands - documented) == [], "commands missing from docs/cli.md"
    assert sorted(documented - commands) == [], "docs/cli.md lists commands the CLI lacks"
