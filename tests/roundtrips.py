"""Round trips to the database per operation, counted at the driver; and the catalogue of
domain operations that ``tests/integration/test_round_trips.py`` and ``bench/operations.py``
both count (one list, so the test's budgets and the benchmark's table name the same calls).

How a round trip is counted (``RoundTrips``):

- **PostgreSQL** (psycopg 3): every statement the client sends and waits for. Each
  ``execute`` is one; ``executemany`` is one (psycopg pipelines it); ``copy`` is two (the
  COPY, then its end). psycopg opens a transaction by sending ``BEGIN`` on its own before
  the first statement on an idle connection: that is one more, and so are ``COMMIT`` and
  ``ROLLBACK`` when a transaction is open (psycopg sends nothing on an idle connection).
  Not counted: the one extra round trip psycopg spends the fifth time it runs a statement on
  a connection, to prepare it (once per statement and connection, so amortised), and a
  ``DEALLOCATE`` when its cache of 100 prepared statements is full. That keeps the counts
  independent of which pooled connection an operation got, so they are deterministic.
- **SQLite**: nothing crosses a network; what costs is each statement the library runs, so
  every statement sqlite3 reports to its trace callback is counted, ``BEGIN IMMEDIATE`` and
  ``COMMIT`` included; an ``executemany`` counts once per row.

Both engines' statements are seen at the driver because the core's write path runs on the
driver connection, not through SQLAlchemy, and an SQLAlchemy ``before_cursor_execute`` hook
alone would miss it. That hook is attached too: ``Trips.through_sqlalchemy`` is how many of the
statements SQLAlchemy compiled and ran (the rest ran on the driver directly), and the counter
checks that it never exceeds what the driver saw. Counting starts at the next checkout of each
pooled connection, so attach a counter before the ledger's first write (``attach`` right
after ``Ledger.open``).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine, event

from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import budgets, cashback, debt, points, redemptions

_COUNTER_ATTRIBUTE = "_rewardledger_round_trips"


@dataclass
class Trips:
    """What one measured block sent: the statements, in order, as the driver saw them."""

    statements: list[str] = field(default_factory=list)
    through_sqlalchemy: int = 0

    @property
    def total(self) -> int:
        return len(self.statements)

    def shown(self) -> str:
        return "\n".join(f"  {n:2d}. {text[:160]}" for n, text in enumerate(self.statements, 1))


class _CountingCursor(psycopg.Cursor[Any]):
    """psycopg's cursor, reporting what it sends to the counter its connection carries."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:  # type: ignore[override]
        _tally(self.connection, query, 1)
        return super().execute(query, params, **options)

    def executemany(self, query: Any, params_seq: Any, **options: Any) -> None:  # type: ignore[override]
        _tally(self.connection, query, 1)
        super().executemany(query, params_seq, **options)

    def copy(self, statement: Any, params: Any = None, **options: Any) -> Any:  # type: ignore[override]
        _tally(self.connection, statement, 2)
        return super().copy(statement, params, **options)


def _text(query: Any) -> str:
    return query if isinstance(query, str) else repr(query)


def _tally(connection: Any, query: Any, trips: int) -> None:
    counter: RoundTrips | None = getattr(connection, _COUNTER_ATTRIBUTE, None)
    if counter is None:
        return
    if (
        not connection.autocommit
        and connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and not getattr(connection, "begins_inline", False)  # the statement's text begins it
    ):
        counter.saw("BEGIN (sent by psycopg)")
    for _ in range(trips):
        counter.saw(_text(query))


class RoundTrips:
    """Counts the round trips of one engine's connections; ``measure()`` opens a block."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._block: Trips | None = None
        self._instrumented: list[Any] = []
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "before_cursor_execute", self._on_sqlalchemy)

    @classmethod
    def attach(cls, ledger: Ledger) -> RoundTrips:
        return cls(ledger.store.engine)  # type: ignore[attr-defined]

    def detach(self) -> None:
        event.remove(self.engine, "checkout", self._on_checkout)
        event.remove(self.engine, "before_cursor_execute", self._on_sqlalchemy)
        for connection in self._instrumented:
            if isinstance(connection, sqlite3.Connection):
                connection.set_trace_callback(None)
            else:
                connection.cursor_factory = psycopg.Cursor
                for name in ("commit", "rollback", _COUNTER_ATTRIBUTE):
                    connection.__dict__.pop(name, None)
        self._instrumented.clear()

    @contextmanager
    def measure(self) -> Iterator[Trips]:
        assert self._block is None, "measure() blocks do not nest"
        block = self._block = Trips()
        try:
            yield block
        finally:
            self._block = None
        seen_by_driver = [s for s in block.statements if not s.startswith("BEGIN (sent")]
        assert block.through_sqlalchemy <= len(seen_by_driver), (
            "SQLAlchemy ran statements the driver hook did not see: attach the counter before "
            "the ledger's first write\n" + block.shown()
        )

    def count(self, call: Callable[[], object]) -> Trips:
        with self.measure() as trips:
            call()
        return trips

    def saw(self, statement: str) -> None:
        if self._block is not None:
            self._block.statements.append(statement)

    def _on_sqlalchemy(self, *_args: Any) -> None:
        if self._block is not None:
            self._block.through_sqlalchemy += 1

    def _on_checkout(self, dbapi_connection: Any, *_args: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            if dbapi_connection not in self._instrumented:
                dbapi_connection.set_trace_callback(self._on_sqlite)
                self._instrumented.append(dbapi_connection)
            return
        if getattr(dbapi_connection, _COUNTER_ATTRIBUTE, None) is self:
            return
        setattr(dbapi_connection, _COUNTER_ATTRIBUTE, self)
        dbapi_connection.cursor_factory = _CountingCursor
        for name in ("commit", "rollback"):
            setattr(dbapi_connection, name, self._ending(dbapi_connection, name))
        self._instrumented.append(dbapi_connection)

    def _ending(self, connection: Any, name: str) -> Callable[[], None]:
        original = getattr(connection, name)

        def end() -> None:
            if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                self.saw(name.upper())
            original()

        return end

    def _on_sqlite(self, statement: str) -> None:
        # A trigger's sub-program is reported too: as a "--" comment, or (Python 3.11's
        # callback expands the statement that fired it) as that statement's text again, with
        # the same bound values. Neither is a statement the library ran: only the first is.
        if statement.startswith("--"):
            return
        if self._block is not None and self._block.statements[-1:] == [statement]:
            return
        self.saw(statement)


# ---------------------------------------------------------------------------------------------
# The operations. ``setup`` configures one tenant for all of them; each operation's ``ready``
# does, untimed and uncounted, what its calls need first (a redemption to confirm, a
# reservation to charge) and returns that many calls, each one use case.

HOLDERS = 20
_numbers = itertools.count()


def _next(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def setup(ledger: Ledger, tenant: str) -> None:
    """A tenant with USD and LUMIS, two core accounts, ``HOLDERS`` points holders with one large
    lot each, a funded budget, cashback and debt programmes, and cards and persons that have
    each moved once (so that their accounts exist)."""
    ledger.create_tenant(tenant, timezone="America/Panama")
    ledger.create_asset(tenant, "USD", scale=2)
    ledger.create_account(tenant, "core-a", asset="USD")
    ledger.create_account(tenant, "core-b", asset="USD")
    points.configure(ledger, tenant, "LUMIS")
    budgets.create_budget(ledger, tenant, "bench", currency="USD", hard_cap="100000000.00")
    budgets.topup(
        ledger, tenant, "bench", amount="10000000.00", currency="USD", idempotency_key="seed"
    )
    cashback.set_program(
        ledger, tenant, currency="USD", minimum_spend="100.00", default_cap="100000000.00"
    )
    debt.set_program(ledger, tenant, currency="USD", closing_day=20, due_day=10)
    for n in range(HOLDERS):
        points.earn(ledger, tenant, f"h{n}", "100000000", dtype="invoice", reference=f"seed{n}")
        cashback.accrue(ledger, tenant, cashback.Accrual(f"seed{n}", f"card{n}", "1.00", "0.01"))
        debt.record(ledger, tenant, debt.DebtRequest(f"seed{n}", f"p{n}", "charge", "1.00"))


Calls = list[Callable[[], object]]


def _core_transfer(ledger: Ledger, tenant: str, n: int) -> Calls:
    def call() -> object:
        request = TransferRequest(_next("t"), "core-a", "core-b", "USD", "0.01")
        return ledger.transfer(tenant, request)

    return [call] * n


def _earn(ledger: Ledger, tenant: str, n: int) -> Calls:
    def call() -> object:
        holder = f"h{next(_numbers) % HOLDERS}"
        return points.earn(ledger, tenant, holder, "5", dtype="invoice", reference=_next("e"))

    return [call] * n


def _spend(ledger: Ledger, tenant: str, n: int) -> Calls:
    def call() -> object:  # takes from the holder's large first lot: one lot move each time
        holder = f"h{next(_numbers) % HOLDERS}"
        return points.spend(ledger, tenant, holder, "3", dtype="ocr", reference=_next("s"))

    return [call] * n


def _create(ledger: Ledger, tenant: str, reference: str) -> Any:
    holder = f"h{next(_numbers) % HOLDERS}"
    return redemptions.create(
        ledger, tenant, holder, offer_id="coffee", cost="2", reference=reference
    )


def _redemption_create(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [lambda: _create(ledger, tenant, _next("r"))] * n


def _redemption_confirm(ledger: Ledger, tenant: str, n: int) -> Calls:
    codes = [_create(ledger, tenant, _next("r")).code for _ in range(n)]
    return [
        lambda code=code: redemptions.confirm(ledger, tenant, code, actor="till") for code in codes
    ]


def _redemption_cancel(ledger: Ledger, tenant: str, n: int) -> Calls:
    made = [_create(ledger, tenant, _next("r")).redemption_id for _ in range(n)]
    return [lambda rid=rid: redemptions.cancel(ledger, tenant, rid, actor="ops") for rid in made]


def _reserve_one(ledger: Ledger, tenant: str, reference: str) -> object:
    return budgets.reserve(
        ledger, tenant, "bench", reference=reference, amount="1.00", currency="USD"
    )


def _reserve(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [lambda: _reserve_one(ledger, tenant, _next("res"))] * n


def _reserved(ledger: Ledger, tenant: str, n: int) -> list[str]:
    references = [_next("res") for _ in range(n)]
    for reference in references:
        _reserve_one(ledger, tenant, reference)
    return references


def _charge(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [
        lambda ref=ref: budgets.charge(ledger, tenant, "bench", ref)
        for ref in _reserved(ledger, tenant, n)
    ]


def _release(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [
        lambda ref=ref: budgets.release(ledger, tenant, "bench", ref)
        for ref in _reserved(ledger, tenant, n)
    ]


def _topup(ledger: Ledger, tenant: str, n: int) -> Calls:
    def call() -> object:
        return budgets.topup(
            ledger, tenant, "bench", amount="1.00", currency="USD", idempotency_key=_next("top")
        )

    return [call] * n


def _accrue_one(ledger: Ledger, tenant: str, movement: str, card: str) -> object:
    return cashback.accrue(ledger, tenant, cashback.Accrual(movement, card, "10.00", "0.10"))


def _accrual(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [lambda: _accrue_one(ledger, tenant, _next("m"), f"card{next(_numbers) % HOLDERS}")] * n


def _accrual_new_card(ledger: Ledger, tenant: str, n: int) -> Calls:
    return [lambda: _accrue_one(ledger, tenant, _next("m"), _next("newcard"))] * n


def _reversal(ledger: Ledger, tenant: str, n: int) -> Calls:
    movements = [_next("m") for _ in range(n)]
    for movement in movements:
        _accrue_one(ledger, tenant, movement, f"card{next(_numbers) % HOLDERS}")
    return [lambda m=m: cashback.reverse(ledger, tenant, cashback.Reversal(m)) for m in movements]


def _debt_movement(ledger: Ledger, tenant: str, n: int) -> Calls:
    def call() -> object:
        person = f"p{next(_numbers) % HOLDERS}"
        return debt.record(ledger, tenant, debt.DebtRequest(_next("d"), person, "charge", "1.00"))

    return [call] * n


CORE_TRANSFER = "core transfer"
OPERATIONS: dict[str, Callable[[Ledger, str, int], Calls]] = {
    CORE_TRANSFER: _core_transfer,
    "points earn": _earn,
    "points spend": _spend,
    "redemption create": _redemption_create,
    "redemption confirm": _redemption_confirm,
    "redemption cancel": _redemption_cancel,
    "budget reserve": _reserve,
    "budget charge": _charge,
    "budget release": _release,
    "budget top-up": _topup,
    "cashback accrual": _accrual,
    "cashback accrual, new card": _accrual_new_card,
    "cashback reversal": _reversal,
    "debt movement": _debt_movement,
}


def count_each(
    ledger: Ledger, tenant: str, trips: RoundTrips, name: str, times: int
) -> list[Trips]:
    """The round trips of ``times`` calls of operation ``name``, one ``Trips`` per call."""
    return [trips.count(call) for call in OPERATIONS[name](ledger, tenant, times)]
