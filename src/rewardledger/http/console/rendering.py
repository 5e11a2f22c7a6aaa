"""How a console page is answered: its template, its form, and its errors as pages.

Owns: the Jinja2 environment (autoescaped), ``ConsoleRoute`` (a service's ``LedgerError`` is
answered as an HTML page with the problem table's status, not as problem JSON; a missing
session sends the browser to sign in) and the pages' routers that use it, and reading a
urlencoded form with a size limit.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from rewardledger.domain.errors import LedgerError, ValidationError
from rewardledger.http.console.session import SignInNeeded, Viewer
from rewardledger.http.problems import status_for

PREFIX = "/console"
FORM_BYTES_MAX = 4096
FORM_FIELDS_MAX = 16
_P = ParamSpec("_P")
_T = TypeVar("_T")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def age_text(seconds: float) -> str:
    """A duration the way a person says it: 40 s, 12 min, 5 h, 3 days."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h"
    days = whole // 86400
    return f"{days} day" if days == 1 else f"{days} days"


TEMPLATES.env.globals["age"] = age_text


def page(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """``template`` with what every page shows (who is signed in, the CSRF token)."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "prefix": PREFIX, **context},
        status_code=status_code,
    )


async def form_of(request: Request) -> dict[str, str]:
    """The request's urlencoded form (its last value per field), at most FORM_BYTES_MAX."""
    body = await request.body()
    if len(body) > FORM_BYTES_MAX:
        raise ValidationError(f"A console form is at most {FORM_BYTES_MAX} bytes.")
    fields = parse_qsl(body.decode("utf-8", "replace"), max_num_fields=FORM_FIELDS_MAX)
    return dict(fields)


async def in_thread(call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    return await run_in_threadpool(call, *args, **kwargs)


def _error_page(request: Request, error: LedgerError) -> Response:
    status = status_for(error.code)
    return page(
        request,
        "error.html",
        None,
        status_code=status,
        status=status,
        message=error.message,
        code=error.code,
    )


class ConsoleRoute(APIRoute):
    """A console route: errors become pages, and no session means the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                return RedirectResponse(f"{PREFIX}/signin", status_code=303)
            except LedgerError as error:
                return _error_page(request, error)

        return answer


def console_router() -> APIRouter:
    """A router for one group of console pages: under ``PREFIX``, out of the API's schema."""
    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def query(request: Request, name: str) -> str | None:
    """A query parameter, None when absent or empty."""
    value = request.query_params.get(name)
    return value or None


def keep(filters: Mapping[str, str | None]) -> dict[str, str]:
    """The filters that are set, to carry into the next page's link."""
    return {name: value for name, value in filters.items() if value}
