"""The one cursor codec and page-size check every paginated list uses (domain.paging)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardledger.domain.errors import IdempotencyConflict, ValidationError
from rewardledger.domain.paging import (
    decode_cursor,
    encode_cursor,
    instant_and_id_after,
    instant_part,
    page_limit,
    page_of,
    text_after,
)
from rewardledger.domain.replay import check_replay

parts = st.one_of(st.text(max_size=40), st.integers(min_value=-(2**63), max_value=2**63 - 1))


@given(st.lists(parts, min_size=1, max_size=3))
def test_a_cursor_gives_back_the_sort_key_it_was_made_from(key: list[str | int]) -> None:
    kinds = [type(part) for part in key]
    assert decode_cursor(encode_cursor(*key), *kinds) == tuple(key)


def test_a_cursor_is_opaque_url_safe_text() -> None:
    cursor = encode_cursor(datetime(2026, 3, 1, tzinfo=UTC).isoformat(), "t/1 é")
    assert cursor.isascii()
    assert not set(cursor) & set("/+=")


@pytest.mark.parametrize(
    "cursor",
    ["", "not base64 !", "bm90IGpzb24", encode_cursor("a"), encode_cursor(1, "a"), 42, "é"],
)
def test_a_cursor_this_list_did_not_give_is_refused(cursor: object) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_cursor(cursor, str, int)
    assert refused.value.context["field"] == "cursor"
    assert "next_cursor" in str(refused.value)


def test_page_limit_defaults_and_refuses_out_of_range() -> None:
    assert page_limit(None) == 50
    assert page_limit(500) == 500
    for bad in (0, 501, True, "10", 2.0):
        with pytest.raises(ValidationError):
            page_limit(bad)


@given(st.lists(st.integers(0, 2**63 - 1), max_size=8), st.integers(1, 6))
def test_a_page_keeps_size_rows_and_has_a_cursor_only_when_more_follow(
    rows: list[int], size: int
) -> None:
    read = rows[: size + 1]  # what a list asks of storage: one row more than the page
    page, next_cursor = page_of(read, size, lambda row: (row,))
    assert page == rows[:size]
    if len(rows) > size:
        assert next_cursor is not None
        assert decode_cursor(next_cursor, int) == (rows[size - 1],)
    else:
        assert next_cursor is None


def test_the_cursor_readers_give_back_what_a_page_encoded() -> None:
    assert text_after(None) is None
    assert text_after(encode_cursor("acct-7")) == "acct-7"
    moment = datetime(2026, 3, 1, 12, 30, 0, 250, tzinfo=UTC)
    assert instant_and_id_after(None) is None
    assert instant_and_id_after(encode_cursor(instant_part(moment), "t1")) == (moment, "t1")
    for reader, wrong in ((text_after, encode_cursor(1)), (instant_and_id_after, "x")):
        with pytest.raises(ValidationError):
            reader(wrong)


def test_a_replay_with_other_values_names_each_field_that_differs() -> None:
    check_replay("r1", amount=True, currency=True)
    with pytest.raises(IdempotencyConflict) as conflict:
        check_replay("r1", amount=False, currency=True, member_key=False)
    assert conflict.value.context["fields"] == ["amount", "member_key"]
