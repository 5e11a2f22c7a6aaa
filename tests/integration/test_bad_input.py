"""The embedded API refuses malformed input with a validation_error, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rewardledger.domain.errors import AlreadyExists, ValidationError
from rewardledger.ledger.engine import Ledger
from rewardledger.services import access
from tests.builders import programme


@pytest.mark.parametrize("bad_id", ["nul\x00id", "has space", "x" * 200, ""])
def test_lookups_check_the_id_before_reaching_the_database(
    ledger: Ledger, tenant_id: str, bad_id: str
) -> None:
    programme(ledger, tenant_id)
    with pytest.raises(ValidationError):
        ledger.get_account(tenant_id, bad_id)
    with pytest.raises(ValidationError):
        ledger.get_transfer(tenant_id, bad_id)
    with pytest.raises(ValidationError):
        ledger.history(tenant_id, bad_id)
    with pytest.raises(ValidationError):
        ledger.get_tenant(bad_id)


@pytest.mark.parametrize("cursor", ["²", "١٢", "-1", "1" * 20, ""])
def test_history_cursors_are_ascii_digits(ledger: Ledger, tenant_id: str, cursor: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError, match="cursor"):
        ledger.history(tenant_id, p.wallets[0], cursor=cursor)


def test_balance_at_a_time_out_of_range_is_refused(ledger: Ledger, tenant_id: str) -> None:
    p = programme(ledger, tenant_id)
    with pytest.raises(ValidationError):
        ledger.balance(
            tenant_id, p.wallets[0], at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
        )
    assert str(ledger.balance(tenant_id, p.wallets[0], at=datetime.now(UTC)).posted) == "0.00"


def test_names_with_nul_are_refused_and_nothing_is_created(ledger: Ledger, tenant_id: str) -> None:
    with pytest.raises(ValidationError):
        ledger.create_asset(tenant_id, "USD", scale=2, name="US\x00D")
    with pytest.raises(ValidationError):
        ledger.create_tenant("other-tenant-x9", name="bad\x00name")
    assert ledger.assets(tenant_id) == {}


def test_creating_a_tenant_twice_through_access_hands_out_one_admin_key(ledger: Ledger) -> None:
    tenant, key = access.create_tenant(ledger, "single-key-tenant")
    assert key.key.startswith("rlk_")
    with pytest.raises(AlreadyExists):
        access.create_tenant(ledger, "single-key-tenant")
    assert ledger.get_tenant(tenant.id) == tenant


def test_counts_of_tenants_and_accounts(ledger: Ledger, tenant_id: str) -> None:
    programme(ledger, tenant_id, wallets=3)
    assert ledger.count_accounts(tenant_id) == 4
    assert ledger.count_tenants() >= 1
    assert ledger.schema_revision() is not None
