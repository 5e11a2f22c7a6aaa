"""The lists that were answered whole or by ``limit`` alone now page by the shared cursor:
points assets, reason codes, a holder's expiry forecast, points integrity, job failures and
the tenant's budget reports. Each returns every row exactly once, in its order, two at a time;
a cursor it did not give is the shared 422 ``validation_error``. Runs on SQLite and PostgreSQL
(the ``ledger`` fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from rewardledger.domain.paging import encode_cursor
from rewardledger.domain.points import ExpiryKind, ExpiryPolicy
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, jobs, points
from tests.builders import FakeClock, Programme
from tests.conftest import owner_engine
from tests.http.support import Api, assert_problem
from tests.http.test_lists import _walk


def test_points_assets_page_by_code_each_once(api: Api, ledger: Ledger) -> None:
    for code in ("STARS", "LUMIS", "MILES", "BEANS", "COINS"):
        points.configure(ledger, api.tenant_id, code)
    codes, pages = _walk(api, "/points/assets", "assets", lambda row: row["asset"])
    assert codes == ["BEANS", "COINS", "LUMIS", "MILES", "STARS"]
    assert pages == 3
    whole = api.get("/points/assets").json()  # no limit: the whole catalogue, as before
    assert [a["asset"] for a in whole["assets"]] == codes
    assert whole["next_cursor"] is None


def test_reasons_page_by_direction_and_code_each_once(api: Api, ledger: Ledger) -> None:
    points.configure(ledger, api.tenant_id)  # the seed's reasons
    expected = [(r.direction.value, r.code) for r in points.reasons(ledger, api.tenant_id)]
    assert len(expected) > 4
    rows, pages = _walk(api, "/points/reasons", "reasons", lambda r: (r["direction"], r["dtype"]))
    assert rows == expected
    assert pages == (len(expected) + 1) // 2
    spends, _ = _walk(
        api, "/points/reasons", "reasons", lambda r: (r["direction"], r["dtype"]), direction="spend"
    )
    assert spends == [row for row in expected if row[0] == "spend"]
    assert_problem(
        api.get("/points/reasons", params={"direction": "sideways"}), 422, "validation_error"
    )


def test_the_expiry_forecast_pages_soonest_first_each_once(
    api: Api, ledger: Ledger, clock: FakeClock
) -> None:
    after_30 = ExpiryPolicy(ExpiryKind.AFTER, days=30)
    points.configure(ledger, api.tenant_id, expiry=after_30)
    for i in range(5):
        clock.advance(hours=1)
        points.earn(ledger, api.tenant_id, "u1", str(10 + i), dtype="invoice", reference=f"e{i}")
    points.earn(ledger, api.tenant_id, "u2", "99", dtype="invoice", reference="other-holder")
    whole = points.expiring(ledger, api.tenant_id, "u1")
    assert len(whole) == 5
    rows, pages = _walk(
        api, "/points/u1/expiring", "expiring", lambda r: (r["expires_at"], r["amount"])
    )
    assert [amount for _, amount in rows] == [str(a) for _, a in whole]
    assert [at for at, _ in rows] == sorted(at for at, _ in rows)
    assert pages == 3
    assert api.get("/points/u1/expiring").json()["next_cursor"] is None


def _tamper(ledger: Ledger, tenant_id: str, holders: list[str]) -> None:
    with owner_engine(ledger).begin() as connection:
        for holder in holders:
            connection.exec_driver_sql(
                "UPDATE accounts SET credits_posted = credits_posted + 7 WHERE tenant_id = "
                f"'{tenant_id}' AND account_id = 'pts:LUMIS:{holder}'"
            )


def test_points_integrity_pages_the_mismatched_holders_each_once(api: Api, ledger: Ledger) -> None:
    tid = api.tenant_id
    points.configure(ledger, tid)
    holders = [f"m{i}" for i in range(7)]
    for holder in holders:
        points.earn(ledger, tid, holder, "10", dtype="invoice", reference=f"e-{holder}")
    damaged = ["m1", "m2", "m4", "m6", "m5"]
    _tamper(ledger, tid, damaged)
    rows, pages = _walk(
        api, "/points/integrity", "holders", lambda r: (r["user_id"], r["integrity_status"])
    )
    assert rows == [(h, "MISMATCH") for h in sorted(damaged)]
    assert pages == 3
    assert [line.user_id for line in points.validate(ledger, tid)] == sorted(damaged)
    fine, _ = _walk(api, "/points/integrity", "holders", lambda r: r["user_id"], status="OK")
    assert fine == ["m0", "m3"]
    assert_problem(
        api.get("/points/integrity", params={"status": "BROKEN"}), 422, "validation_error"
    )


def _fail(ledger: Ledger, tenant_id: str, step: str) -> None:
    store = ledger.extension(jobs.STORE)
    ledger.run(
        tenant_id,
        lambda work: store.record_failure(work.unit, step, "internal_error", "boom", work.now),
    )


def test_job_failures_page_latest_first_each_once(
    api: Api, ledger: Ledger, clock: FakeClock
) -> None:
    tid = api.tenant_id
    steps = ["holds", "budgets", "points", "cycles", "reconciliation"]
    for i, step in enumerate(steps):
        if i % 2 == 0:  # several fail at one moment: the id breaks the tie
            clock.advance(seconds=1)
        _fail(ledger, tid, step)
    since = clock.advance(seconds=1)
    _fail(ledger, tid, "holds")  # a second attempt of an open failure: still one row
    rows, pages = _walk(api, "/jobs/failures", "failures", lambda r: r["failure_id"])
    every = jobs.failures(ledger, tid, limit=500)
    assert rows == [f.failure_id for f in every]
    assert len(set(rows)) == len(rows) == len(steps)
    assert pages == 3
    failed_at = [f.last_failed_at for f in every]
    assert failed_at == sorted(failed_at, reverse=True)
    assert every[0].step == "holds"
    one, _ = _walk(api, "/jobs/failures", "failures", lambda r: r["step"], step="points")
    assert one == ["points"]
    recent, _ = _walk(
        api, "/jobs/failures", "failures", lambda r: r["step"], **{"from": since.isoformat()}
    )
    assert recent == ["holds"]


def test_the_budget_reports_page_by_budget_id_each_once(api: Api, ledger: Ledger) -> None:
    for bid in ("camp-c", "camp-a", "camp-e", "camp-b", "camp-d"):
        budgets.create_budget(ledger, api.tenant_id, bid, currency="USD", hard_cap="10.00")
    ids, pages = _walk(api, "/reports/budgets", "reports", lambda r: r["budget_id"])
    assert ids == ["camp-a", "camp-b", "camp-c", "camp-d", "camp-e"]
    assert pages == 3
    first = api.get("/reports/budgets", params={"limit": 3, "format": "csv"})
    assert first.status_code == 200
    assert [line.split(",")[0] for line in first.text.splitlines()[1:]] == ids[:3]
    rest = api.get(
        "/reports/budgets",
        params={"limit": 3, "format": "csv", "cursor": first.headers["Next-Cursor"]},
    )
    assert [line.split(",")[0] for line in rest.text.splitlines()[1:]] == ids[3:]
    assert "Next-Cursor" not in rest.headers


PAGED = [
    "/points/assets",
    "/points/reasons",
    "/points/u1/expiring",
    "/points/integrity",
    "/jobs/failures",
    "/reports/budgets",
]
BAD_CURSORS = [
    "not-a-cursor",
    encode_cursor(1, 2, 3, 4, 5, 6),  # well formed, but not any of these lists' shapes
    "!!!",  # not even base64url: the route's pattern refuses it
]


@pytest.fixture
def programme(api: Api, ledger: Ledger, shop: Programme) -> Api:
    points.configure(ledger, api.tenant_id)
    points.earn(ledger, api.tenant_id, "u1", "10", dtype="invoice", reference="e1")
    return api


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_cursor_the_list_did_not_give_is_the_shared_validation_error(
    programme: Api, path: str, cursor: str
) -> None:
    problem = assert_problem(
        programme.get(path, params={"cursor": cursor}), 422, "validation_error"
    )
    assert "cursor" in str(problem)


@pytest.mark.parametrize("path", PAGED)
def test_a_cursor_of_another_list_is_refused(programme: Api, path: str) -> None:
    shapes: dict[str, Any] = {
        "/points/assets": encode_cursor(5),
        "/points/reasons": encode_cursor("earn"),
        "/points/u1/expiring": encode_cursor("LUMIS", "u1"),
        "/points/integrity": encode_cursor(5, "x"),
        "/jobs/failures": encode_cursor("holds"),
        "/reports/budgets": encode_cursor(5, "x"),
    }
    problem = assert_problem(
        programme.get(path, params={"cursor": shapes[path]}), 422, "validation_error"
    )
    assert "next_cursor" in problem["detail"]
