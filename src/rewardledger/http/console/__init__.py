"""The web console at /console: server-rendered pages for the operator, finance and the till.

Owns: its assembly into the app (``install``): the signed session cookie (``session``), the
project's own static files (CSS, the till's script; no CDN, nothing third-party), the pages'
routers, and ``/`` sending the browser to /console. Pages call the services directly, never
the /v1 routes; they are left out of the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from rewardledger.config import Settings
from rewardledger.http.console import (
    budget_pages,
    cycle_pages,
    pages,
    points_pages,
    webhook_pages,
)
from rewardledger.http.console.rendering import PREFIX
from rewardledger.http.console.session import (
    SESSION_COOKIE,
    SESSION_SECONDS_MAX,
    signing_secret,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=signing_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS_MAX,
        path=PREFIX,
        same_site="strict",
    )
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    for module in (pages, budget_pages, points_pages, cycle_pages, webhook_pages):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(PREFIX, status_code=307)
