"""``Client`` and ``AsyncClient``: every operation of the API, over one httpx2 connection pool.

Owns: the clients' construction and lifetime, and the pagination helpers that follow a list's
cursor (``next_cursor``, passed back as ``cursor``; or a budget list's ``next_after``, passed
back as ``after``) until the last page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, Self, TypeVar

import httpx2
from pydantic import BaseModel

from rewardledger.client._operation import AsyncBase, SyncBase
from rewardledger.client._transport import (
    TIMEOUT_SECONDS,
    AsyncSender,
    Auth,
    Retries,
    SyncSender,
)
from rewardledger.client.budgets import BudgetOperations
from rewardledger.client.core import CoreOperations
from rewardledger.client.cycles import CycleOperations
from rewardledger.client.events import EventOperations
from rewardledger.client.lists import ListOperations
from rewardledger.client.points import PointsOperations
from rewardledger.client.points_setup import PointsSetupOperations

Page = TypeVar("Page", bound=BaseModel)
Transport = TypeVar("Transport", httpx2.BaseTransport, httpx2.AsyncBaseTransport)
# Followed at most this many pages by one call of ``pages`` (a cursor that never ends).
PAGES_FOLLOWED_MAX = 10_000


def _following(page: BaseModel, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments that ask for the page after ``page`` (its ``next_cursor`` as ``cursor``,
    or its ``next_after`` as ``after``), or None when it is the last."""
    for field, parameter in (("next_cursor", "cursor"), ("next_after", "after")):
        value = getattr(page, field, None)
        if value is not None:
            return {**arguments, parameter: str(value)}
    return None


class _Operations(
    CoreOperations,
    BudgetOperations,
    PointsOperations,
    PointsSetupOperations,
    CycleOperations,
    EventOperations,
    ListOperations,
):
    """Every area of the API, the same for both clients (each operation is sent through the
    client's ``_sender``)."""


class _Connection(Generic[Transport]):
    """The constructor both clients share: the server, the credentials, the retries; each
    client's ``_connect`` opens its own connection pool (through ``transport``, if given)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        tenant_id: str | None = None,
        admin_token: str | None = None,
        retries: Retries | None = None,
        timeout: float = TIMEOUT_SECONDS,
        transport: Transport | None = None,
    ) -> None:
        auth = Auth(base_url, api_key, admin_token, tenant_id, retries or Retries())
        self._connect(auth, timeout, transport)

    def _connect(self, auth: Auth, timeout: float, transport: Transport | None) -> None:
        raise NotImplementedError


class Client(
    _Operations,
    SyncBase,
    _Connection[httpx2.BaseTransport],
):
    """The API over HTTP, synchronously. ``tenant_id`` is the tenant of every tenant route;
    ``admin_token`` is needed only for ``create_tenant``."""

    def _connect(self, auth: Auth, timeout: float, transport: httpx2.BaseTransport | None) -> None:
        http = httpx2.Client(base_url=auth.base_url, timeout=timeout, transport=transport)
        self._sender = SyncSender(auth, http)

    def pages(
        self, operation: Callable[..., Page], /, *args: Any, **arguments: Any
    ) -> Iterator[Page]:
        """Every page of ``operation(*args, **arguments)``, following its cursor from the first:
        ``client.pages(client.account_history, "wallet:ana", limit=100)``."""
        following: dict[str, Any] | None = arguments
        for _ in range(PAGES_FOLLOWED_MAX):
            if following is None:
                return
            page = operation(*args, **following)
            yield page
            following = _following(page, following)

    def close(self) -> None:
        self._sender.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(
    _Operations,
    AsyncBase,
    _Connection[httpx2.AsyncBaseTransport],
):
    """The API over HTTP with asyncio: every operation of ``Client``, awaited."""

    def _connect(
        self, auth: Auth, timeout: float, transport: httpx2.AsyncBaseTransport | None
    ) -> None:
        http = httpx2.AsyncClient(base_url=auth.base_url, timeout=timeout, transport=transport)
        self._sender = AsyncSender(auth, http)

    async def pages(
        self, operation: Callable[..., Awaitable[Page]], /, *args: Any, **arguments: Any
    ) -> AsyncIterator[Page]:
        following: dict[str, Any] | None = arguments
        for _ in range(PAGES_FOLLOWED_MAX):
            if following is None:
                return
            page = await operation(*args, **following)
            yield page
            following = _following(page, following)

    async def aclose(self) -> None:
        await self._sender.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
