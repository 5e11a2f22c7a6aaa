from __future__ import annotations

import pytest

from rewardledger.domain.errors import AlreadyExists, NotFound, ValidationError
from rewardledger.ledger.engine import Ledger


def test_creating_a_tenant_twice_with_the_same_values_returns_it(ledger: Ledger) -> None:
    first = ledger.create_tenant("acme-loyalty-x1", timezone="Africa/Harare")
    again = ledger.create_tenant("acme-loyalty-x1", timezone="Africa/Harare")
    assert again.timezone == first.timezone == "Africa/Harare"


def test_creating_a_tenant_again_with_another_time_zone_is_refused(ledger: Ledger) -> None:
    ledger.create_tenant("acme-loyalty-x2", timezone="UTC")
    with pytest.raises(AlreadyExists) as error:
        ledger.create_tenant("acme-loyalty-x2", timezone="Africa/Harare")
    assert error.value.context["fields"] == ["timezone"]


def test_an_unknown_time_zone_is_a_validation_error(ledger: Ledger) -> None:
    with pytest.raises(ValidationError, match="IANA"):
        ledger.create_tenant("acme-loyalty-x3", timezone="Mars/Olympus")


def test_an_unknown_tenant_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match="tenant"):
        ledger.create_asset("nobody-here", "USD", scale=2)


def test_an_asset_cannot_be_recreated_with_another_scale(ledger: Ledger, tenant_id: str) -> None:
    ledger.create_asset(tenant_id, "ZWG", scale=2)
    assert ledger.create_asset(tenant_id, "ZWG", scale=2).scale == 2
    with pytest.raises(AlreadyExists, match="scale"):
        ledger.create_asset(tenant_id, "ZWG", scale=0)


def test_an_account_starts_empty_and_keeps_its_flags_and_metadata(
    ledger: Ledger, tenant_id: str
) -> None:
    ledger.create_asset(tenant_id, "LUMIS", scale=0)
    ledger.create_account(
        tenant_id, "member:42", asset="LUMIS", no_negative=True, metadata={"tier": "gold"}
    )
    account = ledger.get_account(tenant_id, "member:42")
    assert account.asset_code == "LUMIS"
    assert account.no_negative is True
    assert account.metadata == {"tier": "gold"}
    assert account.balances.posted == account.balances.available == 0


def test_an_account_recreated_with_other_values_is_refused(ledger: Ledger, tenant_id: str) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    ledger.create_account(tenant_id, "wallet", asset="USD", no_negative=True)
    assert ledger.create_account(tenant_id, "wallet", asset="USD", no_negative=True).no_negative
    with pytest.raises(AlreadyExists) as error:
        ledger.create_account(tenant_id, "wallet", asset="USD", no_negative=False)
    assert error.value.context["fields"] == ["no_negative"]


def test_an_account_of_an_unknown_asset_is_refused(ledger: Ledger, tenant_id: str) -> None:
    with pytest.raises(NotFound, match="asset"):
        ledger.create_account(tenant_id, "wallet", asset="EUR")


def test_a_missing_account_is_not_found(ledger: Ledger, tenant_id: str) -> None:
    with pytest.raises(NotFound, match="account"):
        ledger.get_account(tenant_id, "nobody")


def test_accounts_of_one_tenant_are_invisible_to_another(ledger: Ledger, tenant_id: str) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    ledger.create_account(tenant_id, "shared-name", asset="USD")
    other = f"{tenant_id}-other"
    ledger.create_tenant(other)
    with pytest.raises(NotFound):
        ledger.get_account(other, "shared-name")
