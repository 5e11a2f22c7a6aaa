from __future__ import annotations

import pytest

from rewardledger.domain import ids
from rewardledger.domain.errors import ValidationError


@pytest.mark.parametrize("value", ["wallet:alice", "user@example.com", "a", "A1.b-c_d"])
def test_account_ids_accept_url_safe_names(value: str) -> None:
    assert ids.account_id(value) == value


@pytest.mark.parametrize("value", ["", "has space", "slash/inside", "-leading", "x" * 129, 7])
def test_account_ids_refuse_other_shapes(value: object) -> None:
    with pytest.raises(ValidationError, match="account_id"):
        ids.account_id(value)


def test_transfer_ids_leave_room_for_derived_suffixes() -> None:
    ids.transfer_id("x" * 120)
    with pytest.raises(ValidationError):
        ids.transfer_id("x" * 121)


@pytest.mark.parametrize("value", ["usd", "1USD", "US-D", ""])
def test_asset_codes_are_uppercase(value: str) -> None:
    with pytest.raises(ValidationError):
        ids.asset_code(value)


def test_tenant_ids_are_lowercase() -> None:
    assert ids.tenant_id("acme-loyalty") == "acme-loyalty"
    with pytest.raises(ValidationError):
        ids.tenant_id("Acme")
