"""Every error code reaches the client as application/problem+json with its status.

One scenario per row of ``http.problems.PROBLEMS``, each provoking the error for real where the
API can (through the ledger on both engines), and by making the ledger raise it where only
contention or a bug can (busy, internal_error, a bare rejection).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2 as httpx
import pytest

from rewardledger.domain import errors
from rewardledger.domain.limits import (
    AMOUNT_MINOR_MAX,
    AUTH_FAILURES_PER_CLIENT_MAX,
    BATCH_SIZE_MAX,
    BIGINT_MAX,
    REQUEST_BODY_BYTES_MAX,
)
from rewardledger.domain.points import Direction, Reason
from rewardledger.domain.transfers import TransferRequest
from rewardledger.http import problems
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points, redemptions
from tests.builders import Programme
from tests.http.support import Api, assert_problem, transfer_body


def _subclasses(cls: type[errors.LedgerError]) -> set[type[errors.LedgerError]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_code_the_api_can_raise_has_a_status() -> None:
    # The Python client's ApiError (and the classes it makes per code) mirror answers the
    # API gave; they are raised in the caller's process, never by the API.
    raised_by_the_api = {
        cls
        for cls in _subclasses(errors.LedgerError)
        if not cls.__module__.startswith("rewardledger.client")
    }
    codes = {cls.code for cls in raised_by_the_api}
    assert codes <= set(problems.PROBLEMS), codes - set(problems.PROBLEMS)


Scenario = Callable[[Api, Ledger, Programme, pytest.MonkeyPatch], httpx.Response]


def _hold(api: Api, shop: Programme, ref: str) -> None:
    body = transfer_body(*shop.wallets, "30.00", ref=ref, pending=True)
    assert api.post("/transfers", body).status_code == 201


def _overflow(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    # Fill an account's credit total to within one maximal transfer of the BIGINT ceiling.
    ledger.create_asset(shop.tenant_id, "PTS", scale=0)
    ledger.create_account(shop.tenant_id, "pts:source", asset="PTS")
    ledger.create_account(shop.tenant_id, "pts:sink", asset="PTS")
    count = BIGINT_MAX // AMOUNT_MINOR_MAX
    for start in range(0, count, BATCH_SIZE_MAX):
        ledger.transfer_batch(
            shop.tenant_id,
            [
                TransferRequest(f"fill-{n}", "pts:source", "pts:sink", "PTS", str(AMOUNT_MINOR_MAX))
                for n in range(start, min(start + BATCH_SIZE_MAX, count))
            ],
        )
    body = transfer_body("pts:source", "pts:sink", str(AMOUNT_MINOR_MAX), ref="over", asset="PTS")
    return api.post("/transfers", body)


def _raising(error: Exception) -> Scenario:
    def scenario(
        api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
    ) -> httpx.Response:
        def submit(*args: object, **kwargs: object) -> None:
            raise error

        mp.setattr(ledger, "submit", submit)
        return api.post("/transfers", transfer_body(*shop.wallets, "1.00", ref="raising"))

    return scenario


def _conflict(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    api.post("/transfers", transfer_body(*shop.wallets, "1.00", ref="twice"))
    return api.post("/transfers", transfer_body(*shop.wallets, "2.00", ref="twice"))


def _not_pending(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    _hold(api, shop, "held")
    api.post("/transfers/held/void")
    return api.post("/transfers/held/post")


def _exceeds(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    _hold(api, shop, "held")
    return api.post("/transfers/held/post", {"amount": "31.00"})


def _mismatch(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    ledger.create_asset(shop.tenant_id, "LUMIS", scale=0)
    ledger.create_account(shop.tenant_id, "points", asset="LUMIS")
    return api.post("/transfers", transfer_body(shop.wallets[0], "points", "1.00", ref="mixed"))


def _batch_failed(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    items = [
        transfer_body(*shop.wallets, "1.00", ref="ok"),
        transfer_body(*shop.wallets, "999.00", ref="no"),
    ]
    return api.post("/transfers/batch", {"transfers": items})


def _too_large(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    content = b"{" + b" " * REQUEST_BODY_BYTES_MAX + b"}"
    return api.post("/transfers", content=content, headers={"content-type": "application/json"})


def _internal(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError

    mp.setattr(ledger, "history", broken)
    return api.get(f"/accounts/{shop.wallets[0]}/history")


def _program_not_configured(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    body = {"id": "d1", "person_id": "ana", "kind": "charge", "amount": "1.00"}
    return api.post("/debt/movements", body)


def _cycle_not_closed(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    from rewardledger.services import cashback, debt

    cashback.set_program(
        ledger, shop.tenant_id, currency="USD", minimum_spend="1.00", default_cap="9.00"
    )
    debt.set_program(ledger, shop.tenant_id, currency="USD")
    cashback.accrue(ledger, shop.tenant_id, cashback.Accrual("a1", "card-1", "5.00", "1.00"))
    tag = ledger.get_tenant(shop.tenant_id).cycle_tag(ledger.clock())
    return api.post(f"/cashback/ledger/card-1/{tag}/apply-to-debt", {"person_id": "ana"})


def _budget(api: Api, cap_count: int | None = None) -> None:
    body = {"id": "camp", "currency": "USD", "hard_cap": "100.00", "member_cap_count": cap_count}
    assert api.post("/budgets", body, role="admin").status_code == 201
    topup = {"amount": "500.00", "currency": "USD", "idempotency_key": "seed"}
    assert api.post("/budgets/camp/topup", topup).status_code == 201


def _reserve(api: Api, reference: str, amount: str, member: str | None = None) -> httpx.Response:
    body = {"reference": reference, "amount": amount, "currency": "USD", "member_key": member}
    return api.post("/budgets/camp/reservations", body)


def _hard_cap(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    _budget(api)
    return _reserve(api, "big", "100.01")


def _member_cap(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    _budget(api, cap_count=1)
    assert _reserve(api, "first", "1.00", "m1").status_code == 201
    return _reserve(api, "second", "1.00", "m1")


def _charged(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    _budget(api)
    assert _reserve(api, "r", "1.00").status_code == 201
    assert api.post("/budgets/camp/reservations/r/charge", {}).status_code == 201
    return api.post("/budgets/camp/reservations/r/charge", {})


def _points(api: Api, ledger: Ledger, shop: Programme) -> str:
    """A points wallet with 10 points, one pending earn "pend" and a redemption "red"; its code."""
    points.configure(
        ledger,
        shop.tenant_id,
        reasons=[Reason(Direction.EARN, "purchase", pending_until_activated=True)],
    )
    points.earn(ledger, shop.tenant_id, "u1", "10", dtype="invoice", reference="e1")
    made = redemptions.create(ledger, shop.tenant_id, "u1", offer_id="o", cost="1", reference="red")
    return made.code


def _insufficient_points(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    _points(api, ledger, shop)
    return api.post("/points/u1/spend", {"amount": "10", "dtype": "ocr", "reference": "s"})


def _already_redeemed(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    code = _points(api, ledger, shop)
    assert api.post("/redemptions/confirm", {"code": code}, role="merchant").status_code == 200
    return api.post("/redemptions/confirm", {"code": code}, role="merchant")


def _invalid_redemption_state(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    code = _points(api, ledger, shop)
    assert api.post("/redemptions/red/cancel").status_code == 200
    return api.post("/redemptions/confirm", {"code": code}, role="merchant")


def _points_not_pending(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    _points(api, ledger, shop)
    return api.post("/points/u1/activate", {"reference": "e1"})


def _managed_account(
    api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch
) -> httpx.Response:
    _points(api, ledger, shop)
    ledger.create_account(shop.tenant_id, "lumis:bonus-pool", asset="LUMIS")
    body = transfer_body("lumis:bonus-pool", "pts:LUMIS:u1", "5", ref="raw", asset="LUMIS")
    return api.post("/transfers", body)


def _guessing(api: Api, ledger: Ledger, shop: Programme, mp: pytest.MonkeyPatch) -> httpx.Response:
    wrong = {"Authorization": "Bearer rlk_guess_guess"}
    for _ in range(AUTH_FAILURES_PER_CLIENT_MAX):
        assert api.client.get(api.url("/integrity"), headers=wrong).status_code == 401
    return api.client.get(api.url("/integrity"), headers=wrong)


SCENARIOS: dict[str, Scenario] = {
    "insufficient_points": _insufficient_points,
    "already_redeemed": _already_redeemed,
    "invalid_redemption_state": _invalid_redemption_state,
    "points_not_pending": _points_not_pending,
    "validation_error": lambda api, ledger, shop, mp: api.post(
        "/transfers", transfer_body(*shop.wallets, 12.5, ref="float")
    ),
    "not_found": lambda api, ledger, shop, mp: api.get("/accounts/ghost"),
    "unauthorized": lambda api, ledger, shop, mp: api.client.get(api.url("/integrity")),
    "forbidden": lambda api, ledger, shop, mp: api.post(
        "/transfers", transfer_body(*shop.wallets, "1.00", ref="by-reader"), role="reader"
    ),
    "idempotency_conflict": _conflict,
    "already_exists": lambda api, ledger, shop, mp: api.post(
        "/assets", {"code": "USD", "scale": 0}, role="admin"
    ),
    "not_pending": _not_pending,
    "insufficient_funds": lambda api, ledger, shop, mp: api.post(
        "/transfers", transfer_body(*shop.wallets, "100.01", ref="short")
    ),
    "currency_mismatch": _mismatch,
    "exceeds_pending_amount": _exceeds,
    "balance_overflow": _overflow,
    "batch_failed": _batch_failed,
    "managed_account": _managed_account,
    "rejected": _raising(errors.Rejection("Refused by a rule this version does not name.")),
    "busy": _raising(errors.Busy(8)),
    "too_many_failed_authentications": _guessing,
    "hard_cap_exceeded": _hard_cap,
    "member_cap_exceeded": _member_cap,
    "already_charged": _charged,
    # The database goes away while the server runs; an interpreter started with -O. Both are
    # raised by the engine (bootstrap refuses -O; storage reports an unreachable database).
    "database_unavailable": _raising(
        errors.DatabaseUnavailable("postgresql://db", "connection refused", "Check the server.")
    ),
    "unsafe_interpreter": _raising(errors.UnsafeInterpreter()),
    "payload_too_large": _too_large,
    "method_not_allowed": lambda api, ledger, shop, mp: api.client.put(
        api.url("/transfers"), headers=api.auth("admin")
    ),
    "internal_error": _internal,
    # Cycles ----
    "program_not_configured": _program_not_configured,
    "cycle_not_closed": _cycle_not_closed,
}


def test_every_code_in_the_table_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(problems.PROBLEMS)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_error_code_is_a_problem_with_its_status(
    api: Api, ledger: Ledger, shop: Programme, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    response = SCENARIOS[code](api, ledger, shop, monkeypatch)
    status = problems.PROBLEMS[code].status
    problem = assert_problem(response, status, code)
    assert problem["type"] == f"urn:rewardledger:problem:{code}"
    if code == "unauthorized":
        assert response.headers["www-authenticate"] == "Bearer"
    if code == "busy":
        assert response.headers["retry-after"] == "1"
        assert "Retry" in problem["detail"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("validation_error", 422),
        ("not_found", 404),
        ("unauthorized", 401),
        ("forbidden", 403),
        ("idempotency_conflict", 409),
        ("already_exists", 409),
        ("not_pending", 409),
        ("insufficient_funds", 422),
        ("currency_mismatch", 422),
        ("exceeds_pending_amount", 422),
        ("balance_overflow", 422),
        ("batch_failed", 422),
        ("managed_account", 409),
        ("busy", 503),
        ("payload_too_large", 413),
    ],
)
def test_the_statuses_are_the_documented_ones(code: str, status: int) -> None:
    assert problems.status_for(code) == status


def test_a_validation_error_lists_each_field_with_a_message(api: Api, shop: Programme) -> None:
    body = transfer_body(*shop.wallets, 12, ref="x", pending="yes", colour="red")
    problem = assert_problem(api.post("/transfers", body), 422, "validation_error")
    assert sorted(e["field"] for e in problem["errors"]) == ["amount", "colour", "pending"]
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert "decimal string" in messages["amount"]
    assert "not a field" in messages["colour"]
    assert "boolean" in messages["pending"]
    assert all(message in problem["detail"] for message in messages.values())


def test_a_batch_with_many_invalid_items_lists_a_bounded_number(api: Api, shop: Programme) -> None:
    items = [transfer_body(*shop.wallets, 1, ref=f"i{n}") for n in range(500)]
    problem = assert_problem(
        api.post("/transfers/batch", {"transfers": items}), 422, "validation_error"
    )
    assert len(problem["errors"]) == problems.VALIDATION_ERRORS_LISTED_MAX
    assert problem["errors"][3]["field"] == "transfers[3].amount"
    assert "497 more" in problem["detail"]
