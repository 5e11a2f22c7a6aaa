"""Edge input that used to reach the database or the standard library and fail as a 500 is a
4xx problem, on both engines: a non-ASCII admin token, cursors above BIGINT, report dates at
the end of the calendar, and NUL bytes in query filters."""

from __future__ import annotations

import pytest

from rewardledger.domain.limits import BIGINT_MAX
from rewardledger.domain.paging import encode_cursor
from rewardledger.ledger.engine import Ledger
from rewardledger.services import points
from tests.http.support import Api, TestClient, assert_problem


def test_a_non_ascii_admin_token_is_unauthorized(client: TestClient) -> None:
    response = client.post(
        "/v1/tenants",
        json={"id": "nope"},
        headers={"Authorization": "Bearer jeton-\u00e9t\u00e9-de-plateforme".encode()},
    )
    assert_problem(response, 401, "unauthorized")


def test_a_non_ascii_api_key_is_unauthorized(api: Api) -> None:
    response = api.client.get(
        api.url("/accounts/wallet:0:USD"), headers={"Authorization": "Bearer rlk_\u00e9_x".encode()}
    )
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("cursor", [str(BIGINT_MAX + 1), "9" * 19])
def test_a_history_cursor_above_bigint_is_a_validation_error(api: Api, cursor: str) -> None:
    response = api.get("/accounts/wallet:0:USD/history", params={"cursor": cursor})
    problem = assert_problem(response, 422, "validation_error")
    assert problem["field"] == "cursor"


def test_the_largest_history_cursor_is_read(api: Api) -> None:
    response = api.get("/accounts/wallet:0:USD/history", params={"cursor": str(BIGINT_MAX)})
    assert response.status_code == 200, response.text
    assert len(response.json()["entries"]) == 1


@pytest.fixture
def holder(api: Api, ledger: Ledger) -> Api:
    points.configure(ledger, api.tenant_id)
    for reference in ("e1", "e2", "e3"):
        body = {"amount": "10", "dtype": "invoice", "reference": reference}
        assert api.post("/points/u1/earn", body).status_code == 201
    return api


@pytest.mark.parametrize("seq", [BIGINT_MAX + 1, -BIGINT_MAX - 2, 10**30])
def test_an_accumulations_cursor_beyond_bigint_is_a_validation_error(holder: Api, seq: int) -> None:
    response = holder.get("/points/u1/accumulations", params={"cursor": encode_cursor(seq)})
    assert_problem(response, 422, "validation_error")


def test_accumulations_are_paged_with_the_cursor_they_give(holder: Api) -> None:
    first = holder.get("/points/u1/accumulations", params={"limit": 2}).json()
    assert first["next_cursor"] is not None
    rest = holder.get(
        "/points/u1/accumulations", params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert rest.status_code == 200, rest.text
    rows = first["accumulations"] + rest.json()["accumulations"]
    assert [row["balance"] for row in rows] == ["30", "20", "10"]
    assert len({row["id"] for row in rows}) == 3


@pytest.mark.parametrize(
    "window",
    [
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "9999-01-01", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-02"},
    ],
)
def test_report_dates_at_the_ends_of_the_calendar_are_a_validation_error(
    api: Api, window: dict[str, str]
) -> None:
    response = api.get("/reports/budgets", params=window)
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/cashback/ledger", "account"),
        ("/debt/ledger", "person"),
        ("/budgets", "after"),
        ("/alerts", "budget_id"),
    ],
)
def test_a_nul_byte_in_a_query_filter_is_a_validation_error(api: Api, path: str, name: str) -> None:
    response = api.get(path, params={name: "a\x00b"})
    assert_problem(response, 422, "validation_error")
