"""The set-based path of a unit's batch (``UnitOfWork.post_all``, ``ledger.bulk``) writes
exactly what the general path (``UnitOfWork.submit``) writes for the same transfers: the
same journal rows byte for byte (digests included), account totals, holds and events; and
what it cannot take (a refusal, a replay) it leaves to that path, which answers as always.

The rows of a write are caught on their way to the database (``_store``) and the write is
rolled back, so both paths start from the same state. On PostgreSQL the application's role
writes through ``unnest`` (row-level security refuses it COPY) and the owner through COPY:
both are checked.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import InsufficientFunds, LedgerError
from rewardledger.ledger.bulk import PostingColumns
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import points
from rewardledger.storage.write_postgres import PostgresWriteSession
from rewardledger.storage.write_rows import WriteBatch
from rewardledger.storage.write_sqlite import SqliteWriteSession
from tests.builders import FakeClock
from tests.conftest import as_owner

WRITERS = ["sqlite", "postgresql", "postgresql-owner"]


@pytest.fixture(params=WRITERS)
def opened(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Ledger]:
    writer = str(request.param)
    if writer == "sqlite":
        url = str(request.getfixturevalue("sqlite_url"))
    else:
        url = str(request.getfixturevalue("postgres_url"))
        if writer == "postgresql-owner":
            url = as_owner(url)
    with Ledger.open(url, clock=clock) as ledger:
        yield ledger


@pytest.fixture
def tenant(opened: Ledger) -> str:
    tenant_id = f"t{secrets.token_hex(6)}"
    opened.create_tenant(tenant_id, timezone="America/Panama")
    opened.create_asset(tenant_id, "LUMIS", scale=0)
    opened.create_account(tenant_id, "issuance", asset="LUMIS")
    for n in range(5):
        opened.create_account(tenant_id, f"member:{n}", asset="LUMIS", no_negative=True)
    return tenant_id


def _columns(clock: FakeClock, count: int, prefix: str = "row") -> PostingColumns:
    """Earns to five members, then (from six rows on) spends back from each of what it earned;
    varied reasons, effective instants (some left to now) and metadata (none, empty, flags,
    text)."""
    ids: list[str] = []
    debits: list[str] = []
    credits: list[str] = []
    amounts: list[int] = []
    kinds: list[str] = []
    reasons: list[str | None] = []
    effective: list[datetime | None] = []
    metadata: list[dict[str, Any] | None] = []
    for n in range(count):
        member, spend = f"member:{n % 5}", n >= count - 5 and count > 5
        ids.append(f"{prefix}.{n}")
        debits.append(member if spend else "issuance")
        credits.append("issuance" if spend else member)
        amounts.append(1 + n % 7 if not spend else 1)
        kinds.append("spend" if spend else "earn")
        reasons.append(None if n % 4 == 0 else "invoice")
        effective.append(None if n % 3 == 0 else clock.now - timedelta(days=n, microseconds=n))
        metadata.append(
            [None, {}, {"imported": True}, {"imported": True, "redemption_id": f"r{n}"}][n % 4]
        )
    return PostingColumns(
        "LUMIS", ids, debits, credits, amounts, kinds, reasons, effective, metadata
    )


def _general(columns: PostingColumns) -> Callable[[UnitOfWork], None]:
    def use_case(work: UnitOfWork) -> None:
        for result in work.submit(columns.requests(0)):
            raise_for_single(result)

    return use_case


def _bulk(columns: PostingColumns) -> Callable[[UnitOfWork], None]:
    def use_case(work: UnitOfWork) -> None:
        work.post_all(columns)

    return use_case


class _Caught(Exception):
    pass


def _caught(
    ledger: Ledger, tenant: str, use_case: Callable[[UnitOfWork], None]
) -> list[WriteBatch]:
    """The rows ``use_case`` writes, as handed to the database; then rolled back."""
    batches: list[WriteBatch] = []

    def catch(self: Any, batch: WriteBatch) -> None:
        batches.append(batch)
        raise _Caught

    with pytest.MonkeyPatch.context() as patch:
        for session in (PostgresWriteSession, SqliteWriteSession):
            patch.setattr(session, "_store", catch)
        with pytest.raises(_Caught):
            ledger.run(tenant, use_case)
    return batches


def _plain(value: Any) -> Any:
    return value.obj if isinstance(value, Jsonb) else value


def _comparable(batch: WriteBatch) -> dict[str, Any]:
    """Everything of a write but what is new on every write: the events' random ids."""
    return {
        "journal": [tuple(_plain(v) for v in row) for row in batch.journal],
        "outbox": [tuple(_plain(v) for n, v in enumerate(row) if n != 1) for row in batch.outbox],
        "opened": batch.opened,
        "closed": batch.closed,
        "changed": batch.changed,
    }


@pytest.mark.parametrize("count", [3, 70, 400])
def test_the_bulk_path_writes_the_general_paths_rows_byte_for_byte(
    opened: Ledger, tenant: str, clock: FakeClock, count: int
) -> None:
    # The members hold points first (five earns), so that the batch's spends are covered.
    opened.run(tenant, _general(_columns(clock, 5, prefix="seed")))
    opened.run(tenant, _bulk(_columns(clock, 9, prefix="more")))
    columns = _columns(clock, count)
    (general,) = _caught(opened, tenant, _general(columns))
    (bulk,) = _caught(opened, tenant, _bulk(columns))
    assert bulk.bulk  # the set-based path took the batch (it falls back to the general one)
    assert not general.bulk
    assert len(bulk.journal) == count
    assert [row[-1] for row in bulk.journal] == [row[-1] for row in general.journal]  # digests
    assert _comparable(bulk) == _comparable(general)


def test_a_batch_posted_in_bulk_verifies_and_a_rerun_writes_nothing(
    opened: Ledger, tenant: str, clock: FakeClock
) -> None:
    columns = _columns(clock, 120)
    opened.run(tenant, _bulk(columns))
    balances = [opened.balance(tenant, f"member:{n}").posted for n in range(5)]
    assert opened.verify(tenant).ok
    opened.run(tenant, _bulk(columns))  # every id exists: answered as replays
    assert [opened.balance(tenant, f"member:{n}").posted for n in range(5)] == balances
    assert opened.verify(tenant).ok
    assert opened.get_transfer(tenant, "row.6").metadata == {"imported": True}


def test_a_refused_row_is_refused_by_the_bulk_path_as_by_the_general_path(
    opened: Ledger, tenant: str, clock: FakeClock
) -> None:
    # An earn, then a spend of more than the member holds: the batch is refused whole.
    columns = PostingColumns(
        "LUMIS",
        ["earn.1", "spend.1"],
        ["issuance", "member:0"],
        ["member:1", "issuance"],
        [3, 5],
        ["earn", "spend"],
        ["invoice", "ocr"],
        [None, None],
        [{"imported": True}, None],
    )
    outcomes: list[LedgerError] = []
    for use_case in (_general(columns), _bulk(columns)):
        with pytest.raises(LedgerError) as refused:
            opened.run(tenant, use_case)
        outcomes.append(refused.value)
    general, bulk = outcomes
    assert (bulk.code, bulk.message, bulk.context) == (
        general.code,
        general.message,
        general.context,
    )
    assert general.code == "batch_failed"
    assert general.context["failed_code"] == InsufficientFunds.code
    assert opened.balance(tenant, "member:1").posted.minor == 0


def test_an_import_keeps_points_and_journal_in_step_whichever_way_it_writes(
    opened: Ledger, clock: FakeClock
) -> None:
    # As the owner, the batch's journal rows, lots and lot moves go by COPY; as the
    # application's role by unnest arrays; on SQLite by executemany.
    tenant_id = f"t{secrets.token_hex(6)}"
    opened.create_tenant(tenant_id, timezone="America/Panama")
    points.configure(opened, tenant_id, "LUMIS")
    lines = ["user,accum_type,dtype,quantity,date,redemption_id"]
    for n in range(300):
        moment = f"2025-03-01T{n // 60:02d}:{n % 60:02d}:00+00:00"
        turn, holder = (n // 50) % 3, f"h{n % 50}"
        lines.append(
            f"{holder},spend,ocr,-7,{moment},"
            if turn == 2
            else f"{holder},earn,invoice,5,{moment},"
        )
    text = "\n".join(lines) + "\n"
    report = points.import_history(opened, tenant_id, io.StringIO(text))
    assert (report.imported, report.bad_rows) == (300, 0)
    assert points.validate(opened, tenant_id) == []
    assert opened.verify(tenant_id).ok
    again = points.import_history(opened, tenant_id, io.StringIO(text))
    assert (again.imported, again.already_present) == (0, 300)
