"""Property: no JSON body sent to the write routes is a server error, and none that is not a
valid transfer changes anything: each is refused with a 4xx problem (or, in a batch that is
not all-or-nothing, answered 200 with every item refused).

Bodies are arbitrary JSON values (``st.recursive``), and "near misses": a transfer that the
ledger's rules refuse, with some of its fields replaced by arbitrary JSON values, so that many
bodies get past the shape checks and reach the rules and the database with odd values.

No generated body is a valid transfer: the asset is never "USD", the only asset the
programme's accounts hold. A second asset, "PTS", exists without accounts, so that a near miss
gets as far as the posting rules and is refused there (currency mismatch, unknown account);
such refusals are recorded under their ids by design. What must not change is any balance, any
history entry and the tenant's integrity.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardledger.ledger.engine import Ledger
from tests.builders import Programme
from tests.http.support import Api, snapshot

EXAMPLES_PER_ROUTE = 50
ACCOUNTS = ("funding:USD", "wallet:0:USD", "wallet:1:USD", "ghost")

# Besides random values, strings that once got past validation and failed in the database or
# the standard library: NUL, an unpaired surrogate, digits other than 0-9, a directory of the
# time zone database, a time that overflows when converted to UTC.
tricky = st.sampled_from(
    ["\u0000", "a\u0000b", "\ud800", "\u00b2", "\u0661", "America", "0001-01-01T00:00:00+01:00"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | tricky
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | tricky, children, max_size=4)
    ),
    max_leaves=12,
)

# Values the schema accepts for each optional field (the rules may still refuse them).
PLAUSIBLE = {
    "kind": st.sampled_from(["earn", "spend"]),
    "reason": st.sampled_from(["invoice", "daily_game"]),
    "pending": st.booleans(),
    "timeout_seconds": st.integers(1, 3600),
    "effective_at": st.sampled_from(["2026-03-01T00:00:00Z", "2026-03-15T06:00:00-05:00"]),
    "metadata": st.dictionaries(tricky | st.text(max_size=4), tricky | json_values, max_size=3),
    "dry_run": st.just(False),
}
FIELDS = ("ref", "debit_account_id", "credit_account_id", "asset", "amount", *PLAUSIBLE)


def usually(value: Any, *others: Any) -> st.SearchStrategy[Any]:
    """``value`` two times in three, one of ``others`` otherwise."""
    return st.one_of(st.just(value), st.just(value), st.sampled_from(others))


@st.composite
def near_miss(draw: st.DrawFn) -> dict[str, Any]:
    debit, credit = draw(st.permutations(ACCOUNTS))[:2]
    body: dict[str, Any] = {
        "ref": draw(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)),
        "debit_account_id": debit,
        "credit_account_id": credit,
        "asset": draw(usually("PTS", "EUR", "usd")),
        "amount": draw(usually("7", "10.00", "0", "-1", "1e3", "99999999999999999")),
    }
    for name, plausible in PLAUSIBLE.items():
        if draw(st.booleans()):
            body[name] = draw(plausible)
    if "timeout_seconds" in body and body.get("pending") is not True:
        body["pending"] = draw(usually(True, False))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)):
        body[name] = draw(json_values)
    if body.get("asset") == "USD":
        body["asset"] = "PTS"
    return body


transfer_bodies = st.one_of(json_values, near_miss(), near_miss(), near_miss())
batch_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"transfers": st.lists(st.one_of(near_miss(), near_miss(), json_values), max_size=4)},
        optional={"atomic": st.booleans() | json_values, "dry_run": st.just(False) | json_values},
    ),
)


def check_refused_without_change(
    api: Api, ledger: Ledger, shop: Programme, path: str, bodies: st.SearchStrategy[Any]
) -> None:
    ledger.create_asset(shop.tenant_id, "PTS", scale=0)
    accounts = [shop.funding, *shop.wallets]
    before = snapshot(ledger, shop.tenant_id, accounts)
    posted_before = [ledger.balance(shop.tenant_id, a).posted for a in accounts]

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(body=bodies)
    def refused_without_change(body: Any) -> None:
        content = json.dumps(body).encode()  # ASCII-escaped: any string can be sent
        response = api.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code < 500, (body, response.status_code, response.text)
        if response.status_code == 200:
            # Only a non-atomic batch answers 200 for refusals: one result per item, none ok.
            assert not any(result["ok"] for result in response.json()["results"]), body
        else:
            assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        assert [ledger.balance(shop.tenant_id, a).posted for a in accounts] == posted_before

    refused_without_change()
    assert snapshot(ledger, shop.tenant_id, accounts) == before


def test_random_json_to_post_transfers_is_refused_and_changes_nothing(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    check_refused_without_change(api, ledger, shop, "/transfers", transfer_bodies)


def test_random_json_to_post_a_batch_is_refused_and_changes_nothing(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    check_refused_without_change(api, ledger, shop, "/transfers/batch", batch_bodies)
