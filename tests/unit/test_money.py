from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import AMOUNT_MINOR_MAX
from rewardledger.domain.money import Amount, allocate, format_minor, parse_positive


@pytest.mark.parametrize(
    ("text", "scale", "minor"),
    [("12.50", 2, 1250), ("12.5", 2, 1250), ("12", 2, 1200), ("0.01", 2, 1), ("7", 0, 7)],
)
def test_decimal_strings_parse_to_exact_minor_units(text: str, scale: int, minor: int) -> None:
    assert Amount.parse(text, scale).minor == minor


def test_more_decimals_than_the_scale_are_refused_never_rounded() -> None:
    with pytest.raises(ValidationError, match="3 decimal places but this asset has 2"):
        Amount.parse("1.005", 2)


@pytest.mark.parametrize("text", ["1e3", "1,000", " 1", "+1", ".5", "1.", "NaN", "", "0x10"])
def test_anything_but_a_plain_decimal_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Amount.parse(text, 2)


def test_a_float_is_refused_even_when_it_looks_exact() -> None:
    with pytest.raises(ValidationError, match="decimal string"):
        Amount.parse(12.5, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0", "0.00", "-1.00"])
def test_transfer_amounts_must_be_above_zero(text: str) -> None:
    with pytest.raises(ValidationError, match="greater than zero"):
        parse_positive(text, 2)


def test_amounts_above_the_limit_are_refused() -> None:
    with pytest.raises(ValidationError, match="largest amount"):
        parse_positive(str(AMOUNT_MINOR_MAX + 1), 0)
    assert parse_positive(str(AMOUNT_MINOR_MAX), 0) == AMOUNT_MINOR_MAX


@pytest.mark.parametrize(
    ("minor", "scale", "text"),
    [(1250, 2, "12.50"), (5, 2, "0.05"), (-5, 2, "-0.05"), (0, 2, "0.00"), (42, 0, "42")],
)
def test_minor_units_format_with_exactly_the_scale(minor: int, scale: int, text: str) -> None:
    assert format_minor(minor, scale) == text


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=0, max_value=8))
def test_format_then_parse_gives_the_same_amount(minor: int, scale: int) -> None:
    assert Amount.parse(format_minor(minor, scale), scale).minor == minor


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(any),
)
def test_allocation_parts_sum_back_exactly(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)


def test_allocation_gives_left_over_units_to_largest_remainders() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 0, 7]) == [3, 0, 7]
