"""Importing a points history in the seed's shape: batches, bad rows, idempotency (issue 4)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from rewardledger.domain.errors import InsufficientPoints
from rewardledger.domain.points import Direction, Reason
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points

HEADER = "user,accum_type,dtype,quantity,date,redemption_id\n"


@pytest.fixture
def lumis(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS")
    return "LUMIS"


def test_csv_import_loads_rows_with_running_balances(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    text = HEADER + (
        "7,earn,invoice,100,2025-12-01T10:00:00+00:00,\n"
        "7,spend,points,-40,2025-12-02T10:00:00+00:00,6f1c\n"
        "7,earn,refund,40,2025-12-03T10:00:00+00:00,6f1c\n"
    )
    report = points.import_history(ledger, tenant_id, io.StringIO(text))
    assert (report.imported, report.bad_rows) == (3, 0)
    rows = points.accumulations(ledger, tenant_id, "7").rows
    assert [
        (r.accum_type, r.dtype, str(r.quantity), str(r.balance), r.redemption_id) for r in rows
    ] == [
        ("earn", "refund", "40", "100", "6f1c"),
        ("spend", "points", "-40", "60", "6f1c"),
        ("earn", "invoice", "100", "100", None),
    ]
    assert points.validate(ledger, tenant_id) == []


def test_a_batch_with_a_bad_row_loads_nothing_and_names_its_line(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    text = HEADER + (
        "7,earn,invoice,100,2025-12-01T10:00:00+00:00,\n"
        "7,earn,lottery,5,2025-12-01T11:00:00+00:00,\n"
        "8,spend,points,-1,2025-12-01T12:00:00+00:00,\n"
    )
    report = points.import_history(ledger, tenant_id, io.StringIO(text))
    assert report.imported == 0
    assert [bad.line for bad in report.bad] == [3, 4]
    assert points.balance(ledger, tenant_id, "7").balance.minor == 0
    skipped = points.import_history(ledger, tenant_id, io.StringIO(text), skip_bad_rows=True)
    assert skipped.imported == 1
    assert [bad.line for bad in skipped.bad] == [3, 4]
    assert points.balance(ledger, tenant_id, "7").balance.minor == 100


def test_identical_rows_are_both_imported_and_a_rerun_imports_nothing(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    line = {
        "user": "9",
        "accum_type": "earn",
        "dtype": "streak",
        "quantity": 5,
        "date": "2025-12-01T10:00:00Z",
        "redemption_id": None,
    }
    text = json.dumps(line) + "\n" + json.dumps(line) + "\n"
    first = points.import_history(ledger, tenant_id, io.StringIO(text))
    second = points.import_history(ledger, tenant_id, io.StringIO(text))
    assert (first.imported, second.imported, second.already_present) == (2, 0, 2)
    assert points.balance(ledger, tenant_id, "9").balance.minor == 10


def _history(rows: int, holders: int) -> Iterator[str]:
    yield HEADER
    for i in range(rows):
        holder = i % holders
        day = 1 + (i // 10_000)
        second = i % 10_000
        moment = (
            f"2025-11-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        )
        if (i // holders) % 3 == 2:
            yield f"{holder},spend,points,-2,{moment},\n"
        else:
            yield f"{holder},earn,invoice,3,{moment},\n"


class _Lines(io.TextIOBase):
    """A file-like stream made on the fly, so the test never holds the file in memory."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return next(self._lines, "")

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


@pytest.mark.slow
def test_ten_thousand_rows_in_five_batches_import_once_and_a_second_run_imports_nothing(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    # Five times POINTS_IMPORT_BATCH_SIZE, streamed: batching and flat memory across batches.
    first = points.import_history(ledger, tenant_id, _Lines(_history(10_000, 50)))
    assert (first.imported, first.bad_rows) == (10_000, 0)
    second = points.import_history(ledger, tenant_id, _Lines(_history(10_000, 50)))
    assert (second.imported, second.already_present) == (0, 10_000)
    # 200 rows per holder: 134 earns of 3, 66 spends of 2.
    assert points.balance(ledger, tenant_id, "0").balance.minor == 134 * 3 - 66 * 2
    assert points.validate(ledger, tenant_id) == []


def test_an_imported_clawback_leaves_a_deficit_that_later_batches_pay_back(
    ledger: Ledger, tenant_id: str, lumis: str
) -> None:
    points.add_reason(ledger, tenant_id, Reason(Direction.SPEND, "clawback", allow_negative=True))
    text = HEADER + (
        "7,earn,invoice,5,2025-12-01T10:00:00+00:00,\n"
        "7,spend,clawback,-8,2025-12-02T10:00:00+00:00,\n"
        "7,earn,invoice,10,2025-12-03T10:00:00+00:00,\n"
    )
    report = points.import_history(ledger, tenant_id, io.StringIO(text), batch_size=1)
    assert report.imported == 3
    rows = points.accumulations(ledger, tenant_id, "7").rows
    assert [str(r.balance) for r in rows] == ["7", "-3", "5"]
    assert rows[1].negative_allowed
    assert points.validate(ledger, tenant_id) == []
    with pytest.raises(InsufficientPoints):
        points.spend(ledger, tenant_id, "7", "8", dtype="ocr", reference="s1")
