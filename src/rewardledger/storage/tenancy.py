"""Row-level security on PostgreSQL: the tenant each transaction runs for, set in its BEGIN.

Owns: the tenant in scope (a context variable), the psycopg connection that sends it with the
transaction's BEGIN, and the wrapping of the stores' methods so that each runs in the scope of
the tenant it is given. Protects invariant 8 a second time: the policies of migration 0010
show the application's role only the rows whose ``tenant_id`` is the transaction's
``rewardledger.tenant_id``, so a query that forgets its tenant filter sees nothing of another
tenant, and nothing at all when no tenant is set.

No extra round trip: psycopg opens a transaction by sending ``BEGIN`` on its own before the
first statement; here that same message (simple query protocol, one round trip) is
``BEGIN; SELECT set_config('rewardledger.tenant_id', '<tenant>', true)``. The setting is local
to the transaction, so a pooled connection carries nothing over to the next one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
from psycopg import errors, generators, pq, sql

TENANT_SETTING = "rewardledger.tenant_id"
_tenant: ContextVar[str | None] = ContextVar("rewardledger_tenant", default=None)
_IDLE = pq.TransactionStatus.IDLE
_FATAL = pq.ExecStatus.FATAL_ERROR


def current_tenant() -> str | None:
    return _tenant.get()


@contextmanager
def tenant_scope(tenant_id: str | None) -> Iterator[None]:
    """Run what is inside for ``tenant_id``: every transaction begun inside is set to it."""
    token = _tenant.set(tenant_id)
    try:
        yield
    finally:
        _tenant.reset(token)


class TenantConnection(psycopg.Connection[Any]):
    """A psycopg connection whose implicit BEGIN also sets the tenant in scope, if any.

    ``begun_by_statement`` lets a caller send that BEGIN at the head of its own first
    statement (simple query protocol: one message, one round trip) instead of in a round trip
    of its own before it."""

    begins_inline = False  # the next statement carries its transaction's BEGIN itself

    @contextmanager
    def begun_by_statement(self) -> Iterator[list[str]]:
        """Inside: the statements (BEGIN, the tenant's setting) that the next statement sent
        must start with, or none when no transaction is to begin (one is open, autocommit, or
        no tenant in scope); psycopg then sends no BEGIN of its own for it."""
        tenant = self._tenant_to_begin()
        if tenant is None:
            yield []
            return
        self.begins_inline = True
        try:
            yield [self._get_tx_start_command().decode(), self._setting(tenant).decode()]
        finally:
            self.begins_inline = False

    def _tenant_to_begin(self) -> str | None:
        """The tenant whose transaction the next statement begins, or None when it begins none
        of its own (no tenant in scope, autocommit, a pipeline, or a transaction already open)."""
        if self._autocommit or self._pipeline or self.pgconn.transaction_status != _IDLE:
            return None
        return _tenant.get()

    def _setting(self, tenant: str) -> bytes:
        return (
            sql.SQL("SELECT set_config({}, {}, true)")
            .format(sql.Literal(TENANT_SETTING), sql.Literal(tenant))
            .as_bytes(self)
        )

    def _start_query(self) -> Any:
        if self.begins_inline and self.pgconn.transaction_status == _IDLE:
            self.begins_inline = False  # this statement's text begins the transaction
            return None
        tenant = self._tenant_to_begin()
        if tenant is None:
            return (yield from super()._start_query())
        self._check_connection_ok()
        self.pgconn.send_query(self._get_tx_start_command() + b"; " + self._setting(tenant))
        results = yield from generators.execute(self.pgconn)
        for result in results:
            if result.status == _FATAL:
                raise errors.error_from_result(result, encoding=self.pgconn._encoding)
        return None


def connect(*args: Any, **kwargs: Any) -> TenantConnection:
    """The engine's ``do_connect``: psycopg's connect, with the tenant-setting connection."""
    return TenantConnection.connect(*args, **kwargs)


F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def _scoped(method: F) -> F:
    parameters = list(inspect.signature(method).parameters)
    position = parameters.index("tenant_id")

    def tenant_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return kwargs["tenant_id"] if "tenant_id" in kwargs else args[position]

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(*args: Any, **kwargs: Any) -> Any:
            with tenant_scope(tenant_of(args, kwargs)):
                return (yield from method(*args, **kwargs))

        return generator  # type: ignore[return-value]

    @functools.wraps(method)
    def plain(*args: Any, **kwargs: Any) -> Any:
        with tenant_scope(tenant_of(args, kwargs)):
            return method(*args, **kwargs)

    return plain  # type: ignore[return-value]


def scoped_by_tenant(cls: C) -> C:
    """Wrap every public method of ``cls`` (and its bases) that takes a ``tenant_id`` so that it
    runs in that tenant's scope. Methods that open a transaction to hand back (units, snapshots)
    set the scope themselves, around the transaction."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        method = getattr(cls, name)
        if not inspect.isfunction(method):
            continue
        if "tenant_id" in inspect.signature(method).parameters:
            setattr(cls, name, _scoped(method))
    return cls
