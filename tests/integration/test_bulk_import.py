"""A points import writes each batch set-based, and what it writes is the ledger's own (issue 12).

Statements are counted at the driver (``tests/roundtrips.py``); on PostgreSQL the writes a
unit keeps are sent together, so each round trip's text is split into its statements. A batch
of 20 rows and one of 400 must cost the same statements there: nothing is written row by row,
not even the accounts of new holders (opened in the batch's own transaction by one call).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import AlreadyExists
from rewardledger.domain.points import holder_account_id
from rewardledger.services import points
from tests.builders import FakeClock
from tests.conftest import ENGINES
from tests.roundtrips import RoundTrips, Trips

HEADER = "user,accum_type,dtype,quantity,date,redemption_id\n"
# On SQLite every row of an executemany is a statement the library runs: a row of the file
# writes its journal row and its lot or moves, a new holder its holder row, account and event.
SQLITE_STATEMENTS_PER_ROW_MAX = 8


def _history(rows: int, prefix: str, day: int) -> io.StringIO:
    """Per holder: two earns, then a spend that takes from both lots (so lot updates and
    moves too), with holders never seen before."""
    lines = [HEADER]
    for n in range(rows):
        holder, step = f"{prefix}{n // 3}", n % 3
        moment = f"2025-0{1 + day}-01T{10 + step:02d}:00:{n % 60:02d}+00:00"
        if step < 2:
            lines.append(f"{holder},earn,invoice,5,{moment},\n")
        else:
            lines.append(f"{holder},spend,points,-7,{moment},r{n}\n")
    return io.StringIO("".join(lines))


def _statements(trips: Trips) -> int:
    return sum(text.count(";\n") + 1 for text in trips.statements)


@pytest.fixture(params=ENGINES)
def counted(request: pytest.FixtureRequest) -> Iterator[tuple[str, Ledger, str, RoundTrips]]:
    engine = str(request.param)
    url = str(request.getfixturevalue("postgres_url" if engine == "postgresql" else "sqlite_url"))
    with Ledger.open(url, clock=FakeClock()) as ledger:
        trips = RoundTrips.attach(ledger)
        tenant = f"t{secrets.token_hex(6)}"
        ledger.create_tenant(tenant, timezone="America/Panama")
        points.configure(ledger, tenant, "LUMIS")
        try:
            yield engine, ledger, tenant, trips
        finally:
            trips.detach()


def test_an_import_batch_costs_the_same_statements_whatever_its_size(
    counted: tuple[str, Ledger, str, RoundTrips],
) -> None:
    engine, ledger, tenant, trips = counted
    points.import_history(ledger, tenant, _history(30, "warm", 0))  # caches, statements
    counts = {}
    for rows, day in ((21, 1), (399, 2)):
        with trips.measure() as block:
            report = points.import_history(ledger, tenant, _history(rows, f"n{rows}-", day))
        assert (report.imported, report.bad_rows) == (rows, 0)
        counts[rows] = _statements(block)
    if engine == "postgresql":
        assert counts[21] == counts[399], counts
    else:
        assert counts[399] - counts[21] <= SQLITE_STATEMENTS_PER_ROW_MAX * (399 - 21), counts
    assert points.validate(ledger, tenant) == []


def test_an_imported_history_verifies_and_seals_clean(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    # verify recomputes every row's digest: the import's rows must carry the single path's.
    points.configure(ledger, tenant_id, "LUMIS")
    report = points.import_history(ledger, tenant_id, _history(600, "s", 0))
    assert report.imported == 600
    clock.advance(minutes=2)
    seal = ledger.seal(tenant_id)
    assert seal.rows_count == 600
    assert ledger.verify(tenant_id, head=seal.head).ok
    assert points.validate(ledger, tenant_id) == []


def test_a_new_holders_account_that_exists_alike_is_kept_and_one_unlike_is_refused(
    ledger: Ledger, tenant_id: str
) -> None:
    points.configure(ledger, tenant_id, "LUMIS")
    alike = holder_account_id("LUMIS", "alike")
    ledger.create_account(tenant_id, alike, asset="LUMIS", managed_by="points")
    row = "{},earn,invoice,5,2025-01-01T10:00:00+00:00,\n"
    report = points.import_history(ledger, tenant_id, io.StringIO(HEADER + row.format("alike")))
    assert report.imported == 1
    assert points.balance(ledger, tenant_id, "alike").balance.minor == 5
    ledger.create_account(tenant_id, holder_account_id("LUMIS", "unlike"), asset="LUMIS")
    with pytest.raises(AlreadyExists) as refused:
        points.import_history(ledger, tenant_id, io.StringIO(HEADER + row.format("unlike")))
    assert refused.value.context["fields"] == ["managed_by"]
