"""A rebuild over bulk-written movements (CI-sized: 6,000; bench/cycles.py runs 1,000,000)
gives, batch after batch, the totals of a plain GROUP BY and the debt carried forward."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from rewardledger.ledger.engine import Ledger
from rewardledger.services import cycles
from tests.conftest import owner_engine
from tests.roundtrips import RoundTrips
from tests.services.cycles_support import all_rows, programmes

MOVEMENTS = 3_000  # of each ledger
# The kept writes of a batch that ride with its COMMIT (the mark clean-up, the commit itself).
STATEMENTS_PER_TRIP_MAX = 4
TAGS = ("2026-01", "2026-02", "2026-03")
KINDS = ("opening", "charge", "charge", "repayment", "discount")


def _seed(ledger: Ledger, tenant_id: str) -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    engine = owner_engine(ledger)
    cashback_rows: list[dict[str, Any]] = [
        {"t": tenant_id, "id": f"c{i}", "a": f"card-{i % 97}", "tag": TAGS[i % 3],
         "s": 100 + i % 13, "c": 5 + i % 4, "at": at}
        for i in range(MOVEMENTS)
    ]  # fmt: skip
    debt_rows: list[dict[str, Any]] = [
        {"t": tenant_id, "id": f"d{i}", "p": f"p{i % 89}", "tag": TAGS[(i // 7) % 3],
         "k": KINDS[i % 5] if i % 89 else "charge", "amt": 50 + i % 17, "at": at}
        for i in range(MOVEMENTS)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cashback_movements (tenant_id, movement_id, account_id, cycle_tag, "
                "kind, spend_minor, requested_minor, cashback_minor, budget_cap_minor, override, "
                "reverses_id, transfer_id, occurred_at, recorded_at) VALUES (:t, :id, :a, :tag, "
                "'accrual', :s, :c, :c, NULL, false, NULL, NULL, :at, :at)"
            ),
            cashback_rows,
        )
        connection.execute(
            text(
                "INSERT INTO debt_movements (tenant_id, movement_id, person_id, cycle_tag, kind, "
                "amount_minor, due_at, transfer_id, occurred_at, recorded_at) VALUES (:t, :id, "
                ":p, :tag, :k, :amt, NULL, NULL, :at, :at)"
            ),
            debt_rows,
        )


def test_a_rebuild_in_small_batches_matches_a_plain_group_by_and_carries_debt(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id, mode="job", default_cap="1000.00")
    _seed(ledger, tenant_id)
    progressed: list[int] = []
    report = cycles.rebuild(ledger, tenant_id, batch_size=50, progress=progressed.append)
    assert report.pairs == 97 * 3 + 89 * 3 == sum(progressed)
    assert max(progressed) <= 50
    cashback_rows, debt_rows = all_rows(ledger, tenant_id)
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        grouped = connection.execute(
            text(
                "SELECT account_id, cycle_tag, sum(spend_minor), sum(cashback_minor) "
                "FROM cashback_movements WHERE tenant_id = :t "
                "GROUP BY account_id, cycle_tag ORDER BY account_id, cycle_tag"
            ),
            {"t": tenant_id},
        ).all()
        by_kind = connection.execute(
            text(
                "SELECT person_id, cycle_tag, kind, sum(amount_minor) FROM debt_movements "
                "WHERE tenant_id = :t GROUP BY person_id, cycle_tag, kind"
            ),
            {"t": tenant_id},
        ).all()
    assert [
        (r.account_id, r.cycle_tag, r.total_spend_minor, r.total_cashback_minor)
        for r in cashback_rows
    ] == [tuple(row) for row in grouped]
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person, tag, kind, total in by_kind:
        sums[(person, tag)][kind] = int(total)
    expected = []
    carried: dict[str, int] = {}
    for person, tag in sorted(sums):
        kinds = sums[(person, tag)]
        initial = kinds["opening"] if "opening" in kinds else carried.get(person, 0)
        net = initial + kinds["charge"] - kinds["repayment"] - kinds["discount"]
        carried[person] = net
        expected.append((person, tag, initial, net))
    assert [
        (r.person_id, r.cycle_tag, r.initial_debt_minor, r.net_debt_minor) for r in debt_rows
    ] == expected
    assert cycles.rebuild(ledger, tenant_id, batch_size=7).rows_changed == 0


def test_a_rebuild_batch_writes_its_rows_events_in_one_statement(
    ledger: Ledger, tenant_id: str
) -> None:
    # One outbox event per changed row, as consumers expect, but not one statement per event:
    # a round trip's text holds its statements joined by ";\n" (``SqlUnit.later``).
    programmes(ledger, tenant_id, mode="job", default_cap="1000.00")
    _seed(ledger, tenant_id)
    trips = RoundTrips.attach(ledger)
    try:
        with trips.measure() as block:
            report = cycles.rebuild(ledger, tenant_id, batch_size=50)
    finally:
        trips.detach()
    assert report.rows_changed == 97 * 3 + 89 * 3
    assert max(text.count(";\n") + 1 for text in block.statements) <= STATEMENTS_PER_TRIP_MAX
