"""The version-1 digest of a journal row is frozen: its columns and its bytes. A change to the
``transfers`` table or to the canonical form that would make rows already written fail verify
is caught here, before it ships (a new column goes after ``digest``, with a new version)."""

from __future__ import annotations

from datetime import UTC, datetime

from rewardledger.storage.journal_digest import DIGEST_COLUMNS, row_digest
from rewardledger.storage.schema import transfers
from rewardledger.storage.write_rows import TRANSFER_COLUMNS


def test_the_digest_covers_the_transfers_columns_before_digest_in_their_order() -> None:
    names = [column.name for column in transfers.columns]
    cut = names.index("digest")
    assert tuple(names[:cut]) == DIGEST_COLUMNS
    assert tuple(TRANSFER_COLUMNS[:cut]) == DIGEST_COLUMNS


def test_a_known_row_keeps_its_known_digest() -> None:
    at = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    row = (
        "lumis", "invoice-7781", "single", "earn", "invoice", "LUMIS", 120,
        "issuance", "member:42", None, None, at, at, "2026-11", 1, 1, -120, 120,
        {"store": "Panama 3"}, None, None,
    )  # fmt: skip
    assert len(row) == len(DIGEST_COLUMNS)
    assert row_digest(row).hex() == GOLDEN


GOLDEN = "4d747a5081865930db7ca673c9050a76798efd7028fcda0ec9a5bb68667bd412"


def test_an_instant_has_one_canonical_text_whatever_its_zone_or_year() -> None:
    from datetime import timedelta, timezone

    from rewardledger.storage.journal_digest import canonical

    panama = timezone(timedelta(hours=-5))
    same = datetime(2026, 11, 30, 7, 0, 0, tzinfo=panama)
    assert canonical([same]) == b'["2026-11-30T12:00:00.000000Z"]'
    early = datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert canonical([early]) == ('["' + early.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + '"]').encode()
