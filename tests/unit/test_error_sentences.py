"""Error sentences read as English: the article fits the noun, and no list is left empty."""

from __future__ import annotations

import pytest

from rewardledger.domain.errors import AlreadyExists, with_article


@pytest.mark.parametrize(
    ("noun", "expected"),
    [("asset", "an asset"), ("earn", "an earn"), ("budget", "a budget"), ("tenant", "a tenant")],
)
def test_the_article_fits_the_noun(noun: str, expected: str) -> None:
    assert with_article(noun) == expected


def test_already_exists_names_what_differs() -> None:
    error = AlreadyExists("asset", "LUMIS", ["name"])
    assert error.message.startswith("An asset 'LUMIS' already exists with a different name.")


def test_already_exists_with_nothing_differing_leaves_no_empty_list() -> None:
    error = AlreadyExists("tenant", "acme", [])
    assert error.message.startswith("A tenant 'acme' already exists. ")
    assert "different ." not in error.message
