"""Dependencies of the routes: the ledger, the settings, and who is calling with what rights.

Owns: reading the bearer credential and turning it into a ``Principal`` allowed the route's
capability, and slowing a client that keeps failing to authenticate (``http.throttle``).
Protects invariant 8 at the edge: a tenant route authenticates against the tenant
named in its path before anything else runs (the body is validated after), and a key of another
tenant is answered ``not_found`` by ``services.access.authenticate``.

The ledger and settings live on ``app.state`` (set by ``http.app``); routes never build them.

Every dependency here is ``async``: FastAPI runs a plain ``def`` dependency in a worker thread,
one hop to the thread pool and back per dependency (six per request for a tenant write),
which cost more than the work. None of them blocks: the caller's key is checked on the event
loop when this process keeps it (``access.authenticate_kept``), and only a key that must be
read from the database, or whose last use is due to be written, goes to a thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from rewardledger.config import Settings
from rewardledger.domain.access import Principal
from rewardledger.domain.errors import Unauthorized
from rewardledger.domain.limits import TENANT_ID_LENGTH_MAX
from rewardledger.http.schemas import TENANT_ID_PATH_PATTERN
from rewardledger.http.throttle import AuthFailures
from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import (
    KeyCache,
    authenticate,
    authenticate_kept,
    check_admin_token,
    require,
)


async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# auto_error=False: a missing or malformed credential is answered by the services' own
# Unauthorized, whose message says what to send, rather than by FastAPI's bare 401.
_api_key = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key of the tenant in the path: `Authorization: Bearer rlk_...`.",
)
_admin_token = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The platform admin token (REWARDLEDGER_ADMIN_TOKEN), for creating tenants.",
)
ApiKeyDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key)]
AdminTokenDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_token)]
TenantIdPath = Annotated[
    str,
    Path(
        description="The tenant's id.",
        max_length=TENANT_ID_LENGTH_MAX,
        pattern=TENANT_ID_PATH_PATTERN,
    ),
]


def _presented(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return None if credentials is None else credentials.credentials


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@contextmanager
def _throttled(request: Request) -> Iterator[None]:
    """Refuse a client over the failed-authentication limit; count its failures."""
    failures: AuthFailures = request.app.state.auth_failures
    client = _client(request)
    failures.check(client)
    try:
        yield
    except Unauthorized:
        failures.record(client)
        raise


async def get_keys(request: Request) -> KeyCache:
    keys: KeyCache = request.app.state.api_keys
    return keys


KeysDep = Annotated[KeyCache, Depends(get_keys)]


async def _caller(request: Request, tid: str, credentials: ApiKeyDep) -> Principal:
    """The principal behind the request's API key, for the tenant ``tid`` of the path."""
    presented = _presented(credentials)
    # From the app's state, not as dependencies of their own: each dependency costs FastAPI a
    # resolution per request, on the event loop, and these two never change.
    ledger: Ledger = request.app.state.ledger
    keys: KeyCache = request.app.state.api_keys
    with _throttled(request):
        principal = authenticate_kept(ledger, tid, presented, keys)
        if principal is None:
            principal = await run_in_threadpool(authenticate, ledger, tid, presented, keys)
        return principal


def _requiring(capability: str) -> Callable[..., Awaitable[Principal]]:
    """The dependency of a tenant route: the caller, authenticated and allowed ``capability``
    (one dependency, not one on top of another: the same reason)."""

    async def dependency(request: Request, tid: TenantIdPath, credentials: ApiKeyDep) -> Principal:
        principal = await _caller(request, tid, credentials)
        require(principal, capability)
        return principal

    dependency.__name__ = f"requires_{capability}"
    return dependency


Reader = Annotated[Principal, Depends(_requiring("read"))]
Writer = Annotated[Principal, Depends(_requiring("write"))]
TenantAdmin = Annotated[Principal, Depends(_requiring("admin"))]
Redeemer = Annotated[Principal, Depends(_requiring("redeem"))]
RedemptionReader = Annotated[Principal, Depends(_requiring("read_redemptions"))]


async def platform_admin(
    request: Request, settings: SettingsDep, credentials: AdminTokenDep
) -> None:
    """Only the bearer of REWARDLEDGER_ADMIN_TOKEN may create tenants (403 if none is set)."""
    configured = settings.admin_token
    with _throttled(request):
        check_admin_token(
            None if configured is None else configured.get_secret_value(), _presented(credentials)
        )


PlatformAdmin = Depends(platform_admin)
