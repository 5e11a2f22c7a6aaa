"""The digests of a write's many rows (``RowDigests``, one encoder and each instant's text
computed once) are the bytes of ``row_digest``, row by row, whatever the row holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from rewardledger.storage.journal_digest import DIGEST_COLUMNS, RowDigests, row_digest

_text = st.text(max_size=12)
_instants = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - made aware below
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))]),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_rows = st.tuples(
    _text, _text, _text, _text, st.none() | _text, st.none() | _text,
    st.none() | st.integers(), st.none() | _text, st.none() | _text, st.none() | _text,
    st.none() | _instants, _instants, _instants, _text,
    st.none() | st.integers(), st.none() | st.integers(),
    st.none() | st.integers(), st.none() | st.integers(),
    st.none() | st.dictionaries(_text, _json, max_size=4), st.none() | _text,
    st.none() | st.dictionaries(_text, _json, max_size=4),
)  # fmt: skip


@given(st.lists(_rows, min_size=1, max_size=6))
def test_the_digests_of_a_writes_rows_are_each_rows_own_digest(
    rows: list[tuple[object, ...]],
) -> None:
    digests = RowDigests()  # shared by the rows, as in one write
    for row in rows:
        assert len(row) == len(DIGEST_COLUMNS)
        assert digests(row) == row_digest(row)


def test_one_instant_in_two_zones_has_one_digest() -> None:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    row = ("t", "a", "single", "earn", None, "LUMIS", 1, "x", "y", None, None, at, at, "2026-11",
           1, 1, -1, 1, {"imported": True}, None, None)  # fmt: skip
    moved = (*row[:11], at.astimezone(timezone(timedelta(hours=-5))), *row[12:])
    digests = RowDigests()
    assert digests(row) == digests(moved) == row_digest(moved)
