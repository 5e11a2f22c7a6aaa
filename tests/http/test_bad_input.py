"""Bad input of every shape gets a 4xx problem and changes nothing.

"Nothing" is checked on the ledger itself: every balance and history entry of the programme's
accounts, the tenant's integrity, and that the request's id was not recorded (so it is still
free for a correct request).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rewardledger.domain.errors import NotFound
from rewardledger.domain.limits import BATCH_SIZE_MAX, METADATA_BYTES_MAX
from rewardledger.ledger.engine import Ledger
from tests.builders import Programme
from tests.http.support import ADMIN_TOKEN, Api, assert_problem, snapshot

REF = "bad-input"
FUNDING = "funding:USD"
PAYER = "wallet:0:USD"
PAYEE = "wallet:1:USD"
VALID: dict[str, Any] = {
    "ref": REF,
    "debit_account_id": PAYER,
    "credit_account_id": PAYEE,
    "asset": "USD",
    "amount": "10.00",
}


def with_(**fields: Any) -> dict[str, Any]:
    return VALID | fields


def without(name: str) -> dict[str, Any]:
    return {key: value for key, value in VALID.items() if key != name}


def raw(text: str | bytes) -> bytes:
    return text.encode() if isinstance(text, str) else text


BAD_TRANSFERS: dict[str, tuple[Any, int, str]] = {
    # Amounts: strings only, positive, within the asset's scale and the ledger's limit.
    "amount as a JSON number": (with_(amount=12.5), 422, "validation_error"),
    "amount as a JSON integer": (with_(amount=10), 422, "validation_error"),
    "amount as a huge JSON number": (
        raw(json.dumps(VALID).replace('"10.00"', "1e400")),
        422,
        "validation_error",
    ),
    "amount as an enormous integer": (
        raw(json.dumps(VALID).replace('"10.00"', "9" * 5000)),
        422,
        "validation_error",
    ),
    "amount above the transfer limit": (
        with_(amount="99999999999999999.99"),
        422,
        "validation_error",
    ),
    "amount with 19 digits": (with_(amount="1" * 19), 422, "validation_error"),
    "amount as a very long string": (with_(amount="1" * 10_000), 422, "validation_error"),
    "amount with too many decimals": (with_(amount="10.001"), 422, "validation_error"),
    "negative amount": (with_(amount="-10.00"), 422, "validation_error"),
    "zero amount": (with_(amount="0"), 422, "validation_error"),
    "zero amount with decimals": (with_(amount="0.00"), 422, "validation_error"),
    "amount with an exponent": (with_(amount="1e3"), 422, "validation_error"),
    "amount with a comma": (with_(amount="10,00"), 422, "validation_error"),
    "amount with spaces": (with_(amount=" 10.00"), 422, "validation_error"),
    "empty amount": (with_(amount=""), 422, "validation_error"),
    "amount true": (with_(amount=True), 422, "validation_error"),
    "amount NaN": (raw(json.dumps(VALID).replace('"10.00"', "NaN")), 422, "validation_error"),
    "amount null": (with_(amount=None), 422, "validation_error"),
    "amount in Arabic-Indic digits": (
        with_(amount="\u0661\u0662.\u0665\u0660"),
        422,
        "validation_error",
    ),
    "amount in full-width digits": (with_(amount="\uff11\uff12"), 422, "validation_error"),
    "amount missing": (without("amount"), 422, "validation_error"),
    # Wrong JSON types for every other field.
    "account id as a number": (with_(debit_account_id=7), 422, "validation_error"),
    "account id as an object": (with_(credit_account_id={"id": PAYEE}), 422, "validation_error"),
    "pending as a string": (with_(pending="true"), 422, "validation_error"),
    "pending as a number": (with_(pending=1), 422, "validation_error"),
    "dry_run as a string": (with_(dry_run="yes"), 422, "validation_error"),
    "timeout as a string": (with_(pending=True, timeout_seconds="60"), 422, "validation_error"),
    "timeout as a fraction": (with_(pending=True, timeout_seconds=1.5), 422, "validation_error"),
    "timeout zero": (with_(pending=True, timeout_seconds=0), 422, "validation_error"),
    "timeout beyond the limit": (
        with_(pending=True, timeout_seconds=10**12),
        422,
        "validation_error",
    ),
    "timeout without pending": (with_(timeout_seconds=60), 422, "validation_error"),
    "metadata as a string": (with_(metadata="note"), 422, "validation_error"),
    "metadata as a list": (with_(metadata=[1]), 422, "validation_error"),
    "metadata with a fraction": (with_(metadata={"rate": 0.5}), 422, "validation_error"),
    "metadata too large": (
        with_(metadata={"x": "y" * METADATA_BYTES_MAX}),
        422,
        "validation_error",
    ),
    "effective_at as a number": (with_(effective_at=1_700_000_000), 422, "validation_error"),
    "effective_at without offset": (
        with_(effective_at="2026-03-01T10:00:00"),
        422,
        "validation_error",
    ),
    "effective_at in the future": (
        with_(effective_at="2030-01-01T00:00:00Z"),
        422,
        "validation_error",
    ),
    "effective_at as words": (with_(effective_at="last tuesday"), 422, "validation_error"),
    # Values that once got past validation and failed in the database or the standard library.
    "effective_at in year 1": (with_(effective_at="0001-01-01T00:00:00Z"), 422, "validation_error"),
    "effective_at before year 1 in UTC": (
        with_(effective_at="0001-01-01T00:00:00+01:00"),
        422,
        "validation_error",
    ),
    "metadata with a NUL": (with_(metadata={"note": "a\u0000b"}), 422, "validation_error"),
    "metadata key with a NUL": (with_(metadata={"a\u0000": 1}), 422, "validation_error"),
    "metadata with an unpaired surrogate": (
        with_(metadata={"note": "\ud800"}),
        422,
        "validation_error",
    ),
    "metadata key with an unpaired surrogate": (
        with_(metadata={"\udc00": 1}),
        422,
        "validation_error",
    ),
    "metadata nested 500 deep": (
        raw(json.dumps(with_(metadata={"x": 0})).replace("0}", "[" * 500 + "]" * 500 + "}")),
        422,
        "validation_error",
    ),
    "kind not an identifier": (with_(kind="Earn Points!"), 422, "validation_error"),
    "reason as a number": (with_(reason=5), 422, "validation_error"),
    "asset in lowercase": (with_(asset="usd"), 422, "validation_error"),
    "unknown asset": (with_(asset="EUR"), 404, "not_found"),
    "same account on both sides": (with_(credit_account_id=PAYER), 422, "validation_error"),
    "account id with spaces": (with_(debit_account_id="wallet 0"), 422, "validation_error"),
    "ref with spaces": (with_(ref="bad input"), 422, "validation_error"),
    "ref too long": (with_(ref="r" * 121), 422, "validation_error"),
    "ref as a number": (with_(ref=12), 422, "validation_error"),
    # Unknown fields and bodies that are not a transfer at all.
    "unknown field": (with_(colour="red"), 422, "validation_error"),
    "id instead of ref": ({**without("ref"), "id": REF}, 422, "validation_error"),
    "empty object": ({}, 422, "validation_error"),
    "array": ([VALID], 422, "validation_error"),
    "string": ("transfer", 422, "validation_error"),
    "number": (10, 422, "validation_error"),
    "null": (None, 422, "validation_error"),
    # Bodies that are not JSON.
    "malformed JSON": (raw('{"ref": "bad-input", '), 422, "validation_error"),
    "single quotes": (raw(json.dumps(VALID).replace('"', "'")), 422, "validation_error"),
    "trailing comma": (raw(json.dumps(VALID)[:-1] + ",}"), 422, "validation_error"),
    "invalid UTF-8": (raw(b'{"ref": "\xff\xfe"}'), 422, "validation_error"),
    "empty body": (raw(b""), 422, "validation_error"),
    "deeply nested JSON": (raw("[" * 100_000 + "]" * 100_000), 422, "validation_error"),
}


def send(api: Api, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    if isinstance(payload, bytes):
        headers = {"content-type": "application/json", **(headers or {})}
        return api.post(path, content=payload, headers=headers)
    return api.post(path, payload, headers=headers)


def balances(ledger: Ledger, shop: Programme) -> list[tuple[int, int, int]]:
    """The cheap part of a snapshot, checked after every single bad request."""
    return [
        (b.posted.minor, b.available.minor, b.pending_debits.minor if b.pending_debits else 0)
        for b in (ledger.balance(shop.tenant_id, a) for a in (shop.funding, *shop.wallets))
    ]


@pytest.fixture
def unchanged(ledger: Ledger, shop: Programme) -> Any:
    """Assert, after the test, that the programme is exactly as before and REF is unused."""
    accounts = [shop.funding, *shop.wallets]
    before = snapshot(ledger, shop.tenant_id, accounts)
    yield
    assert snapshot(ledger, shop.tenant_id, accounts) == before
    assert ledger.store.get_transfer(shop.tenant_id, REF) is None


# Each table below runs as subtests of one test per engine: one programme serves every case,
# since no case may change it (which is checked after each).


@pytest.mark.usefixtures("unchanged")
def test_a_bad_transfer_is_refused_and_changes_nothing(
    api: Api, ledger: Ledger, shop: Programme, subtests: pytest.Subtests
) -> None:
    before = balances(ledger, shop)
    for name, (payload, status, code) in BAD_TRANSFERS.items():
        with subtests.test(name):
            assert_problem(send(api, "/transfers", payload), status, code)
            assert balances(ledger, shop) == before
            assert ledger.store.get_transfer(shop.tenant_id, REF) is None


@pytest.mark.usefixtures("unchanged")
def test_a_bad_transfer_is_refused_in_a_batch_too(
    api: Api, ledger: Ledger, shop: Programme, subtests: pytest.Subtests
) -> None:
    before = balances(ledger, shop)
    for name, (payload, _, _) in BAD_TRANSFERS.items():
        if isinstance(payload, bytes) or not isinstance(payload, dict):
            continue
        items = [VALID | {"ref": f"{REF}-good"}, payload]
        for atomic in (True, False):
            with subtests.test(name, atomic=atomic):
                response = api.post("/transfers/batch", {"transfers": items, "atomic": atomic})
                assert 400 <= response.status_code < 500, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert balances(ledger, shop) == before
                assert ledger.store.get_transfer(shop.tenant_id, f"{REF}-good") is None


def test_a_transfer_naming_an_unknown_account_is_refused_and_moves_nothing(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    accounts = [shop.funding, *shop.wallets]
    before = snapshot(ledger, shop.tenant_id, accounts)
    for ref, body in [
        ("from-ghost", with_(ref="from-ghost", debit_account_id="ghost")),
        ("to-ghost", with_(ref="to-ghost", credit_account_id="ghost")),
    ]:
        first = assert_problem(api.post("/transfers", body), 404, "not_found")
        assert first["account_id"] == "ghost"
        # The refusal is recorded under its id (invariant 7): the replay is the same refusal.
        replay = assert_problem(api.post("/transfers", body), 404, "not_found")
        assert replay["detail"] == first["detail"]
        assert_problem(api.get(f"/transfers/{ref}"), 404, "not_found")
    assert snapshot(ledger, shop.tenant_id, accounts) == before


@pytest.mark.usefixtures("unchanged")
def test_a_batch_of_one_more_than_the_limit_is_refused(api: Api) -> None:
    items = [VALID | {"ref": f"{REF}-{n}", "amount": "0.01"} for n in range(BATCH_SIZE_MAX + 1)]
    problem = assert_problem(
        api.post("/transfers/batch", {"transfers": items}), 422, "validation_error"
    )
    assert problem["errors"][0]["field"] == "transfers"


BAD_BATCHES: dict[str, Any] = {
    "atomic as a string": {"transfers": [VALID], "atomic": "yes"},
    "unknown field": {"transfers": [VALID], "extra": 1},
    "dry_run on an item": {"transfers": [VALID | {"dry_run": True}]},
    "transfers as an object": {"transfers": VALID},
    "the same id twice": {"transfers": [VALID, VALID]},
    "an item that is a string": {"transfers": [VALID, "second"]},
    "no transfers": {"transfers": []},
    "transfers missing": {"atomic": True},
}


@pytest.mark.usefixtures("unchanged")
def test_a_bad_batch_is_refused_and_changes_nothing(api: Api, subtests: pytest.Subtests) -> None:
    for name, body in BAD_BATCHES.items():
        with subtests.test(name):
            assert_problem(api.post("/transfers/batch", body), 422, "validation_error")


BAD_RESOLUTIONS: dict[str, Any] = {
    "amount as a number": {"amount": 5},
    "amount with too many decimals": {"amount": "5.001"},
    "negative amount": {"amount": "-1"},
    "zero amount": {"amount": "0"},
    "unknown field": {"reason": "changed"},
    "metadata as a string": {"metadata": "x"},
    "effective_at without a time": {"effective_at": "2026-03-01"},
    "dry_run as a number": {"dry_run": 1},
    "malformed JSON": raw("{"),
    "an array": [],
    "effective_at before year 1 in UTC": {"effective_at": "0001-01-01T00:00:00+01:00"},
    "metadata with a NUL": {"metadata": {"a": "\u0000"}},
}


def test_a_bad_post_or_void_is_refused_and_leaves_the_hold(
    api: Api, ledger: Ledger, shop: Programme, subtests: pytest.Subtests
) -> None:
    assert api.post("/transfers", VALID | {"ref": "hold", "pending": True}).status_code == 201
    accounts = [shop.funding, *shop.wallets]
    before = snapshot(ledger, shop.tenant_id, accounts)
    for name, payload in BAD_RESOLUTIONS.items():
        for action in ("post", "void"):
            with subtests.test(name, action=action):
                response = send(api, f"/transfers/hold/{action}", payload)
                assert 400 <= response.status_code < 500, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert ledger.store.get_transfer(shop.tenant_id, f"hold.{action}") is None
    assert snapshot(ledger, shop.tenant_id, accounts) == before
    assert api.get("/transfers/hold").json()["state"] == "pending"


BAD_ACCOUNTS: dict[str, Any] = {
    "id with a space": {"id": "bad id", "asset": "USD"},
    "no_negative as a string": {"id": REF, "asset": "USD", "no_negative": "true"},
    "metadata with a fraction": {"id": REF, "asset": "USD", "metadata": {"rate": 1.5}},
    "asset as a number": {"id": REF, "asset": 1},
    "asset missing": {"id": REF},
    "unknown field": {"id": REF, "asset": "USD", "owner": "x"},
    "metadata with a NUL": {"id": REF, "asset": "USD", "metadata": {"a": "\u0000"}},
    "metadata key with an unpaired surrogate": {
        "id": REF,
        "asset": "USD",
        "metadata": {"\ud800": 1},
    },
    "metadata nested too deep": {
        "id": REF,
        "asset": "USD",
        "metadata": {"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    },
}


@pytest.mark.usefixtures("unchanged")
def test_a_bad_account_is_refused_and_not_created(
    api: Api, ledger: Ledger, shop: Programme, subtests: pytest.Subtests
) -> None:
    for name, body in BAD_ACCOUNTS.items():
        with subtests.test(name):
            assert_problem(api.post("/accounts", body), 422, "validation_error")
            assert ledger.store.get_account(shop.tenant_id, REF) is None
            assert ledger.store.get_account(shop.tenant_id, "bad id") is None


BAD_READS: dict[str, tuple[str, dict[str, str] | None]] = {
    "account id with a NUL": ("/accounts/a%00b", None),
    "account id with a NUL, history": ("/accounts/a%00b/history", None),
    "account id with a NUL, balance": ("/accounts/a%00b/balance", None),
    "transfer id with a NUL": ("/transfers/a%00b", None),
    "cursor of a superscript digit": (f"/accounts/{PAYER}/history", {"cursor": "\u00b2"}),
    "cursor of Arabic-Indic digits": (f"/accounts/{PAYER}/history", {"cursor": "\u0661\u0662"}),
    "cursor of 20 digits": (f"/accounts/{PAYER}/history", {"cursor": "9" * 20}),
    "time before year 1 in UTC": (
        f"/accounts/{PAYER}/balance",
        {"at": "0001-01-01T00:00:00+01:00"},
    ),
    "time after year 9999 in UTC": (
        f"/accounts/{PAYER}/balance",
        {"at": "9999-12-31T23:59:59-01:00"},
    ),
}


def test_a_bad_read_is_a_validation_error(api: Api, subtests: pytest.Subtests) -> None:
    for name, (path, params) in BAD_READS.items():
        with subtests.test(name):
            assert_problem(api.get(path, params=params), 422, "validation_error")
    tenant_with_a_nul = api.client.get("/v1/tenants/a%00/integrity", headers=api.auth("admin"))
    assert_problem(tenant_with_a_nul, 422, "validation_error")


def test_bad_text_for_tenants_assets_and_keys_is_refused(
    api: Api, ledger: Ledger, subtests: pytest.Subtests
) -> None:
    platform = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    tenants = {
        "a time zone that is a directory": {"id": "tz-dir", "timezone": "America"},
        "another such directory": {"id": "tz-dir", "timezone": "Etc"},
        "a path for a time zone": {"id": "tz-dir", "timezone": "../../../etc/passwd"},
        "a name with a NUL": {"id": "tz-dir", "name": "a\u0000"},
    }
    for name, body in tenants.items():
        with subtests.test(name):
            response = api.client.post(
                "/v1/tenants",
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json", **platform},
            )
            assert_problem(response, 422, "validation_error")
    with pytest.raises(NotFound):
        ledger.get_tenant("tz-dir")
    with subtests.test("an asset name with a NUL"):
        body = {"code": "NUL", "scale": 0, "name": "a\u0000"}
        assert_problem(api.post("/assets", body, role="admin"), 422, "validation_error")
        assert "NUL" not in ledger.assets(api.tenant_id)
    with subtests.test("a key label with a NUL"):
        body = {"role": "reader", "label": "a\u0000"}
        assert_problem(api.post("/api-keys", body, role="admin"), 422, "validation_error")
