"""The console in Debian's chromium, against a live demo server on SQLite and PostgreSQL.

Each test signs in as one of the console's people (the operator's admin key, a reader, the
merchant at a till, another tenant) and checks what that person must see, and not see. The
``page`` fixture asserts afterwards that no page asked anything of another server and that no
JavaScript error was logged. Screenshots of every page go to docs/console/ (docs/console.md).
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import Page, expect

from rewardledger.bootstrap import Ledger
from rewardledger.http.schemas_cycles import DEBT_CSV_COLUMNS
from rewardledger.services import demo_programme, redemptions
from tests.browser.conftest import OTHER_TENANT, Live, Watch, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BUDGET = demo_programme.BUDGET


def test_signing_in_shows_the_budget_near_its_soft_cap_and_its_chart(
    page: Page, live: Live
) -> None:
    page.goto("/console/signin")
    screenshot(page, live, "signin")
    sign_in(page, live.admin_key)
    row = page.get_by_role("row").filter(has_text=BUDGET)
    expect(row).to_contain_text("past soft cap")
    expect(row).to_contain_text("880.00 USD")
    screenshot(page, live, "overview")
    page.get_by_role("button", name="Verify and reconcile now").click()
    expect(page.locator("#integrity-result")).to_contain_text("verified")
    row.get_by_role("link", name=BUDGET).click()
    expect(page.get_by_role("heading", name=f"Budget {BUDGET}")).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("Used against the caps"))
    expect(chart).to_be_visible()
    expect(chart.locator("path.series")).to_have_count(1)
    expect(page.locator("#used")).to_have_text("880.00 USD")
    screenshot(page, live, "budget")


def test_an_alert_opens_with_its_details(page: Page, live: Live) -> None:
    sign_in(page, live.admin_key)
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_label("Budget").fill(BUDGET)
    page.get_by_role("button", name="Filter").click()
    first = page.locator("details").first
    expect(first).to_contain_text(BUDGET)
    first.locator("summary").click()
    expect(first.locator("dl.details")).to_be_visible()
    screenshot(page, live, "alerts")


def test_a_holder_is_found_with_its_expiring_forecast(page: Page, live: Live) -> None:
    sign_in(page, live.admin_key)
    page.get_by_role("link", name="Points").click()
    holder = demo_programme.POINTS_HOLDERS[0][0]
    page.get_by_label("Holder", exact=True).fill(holder)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name=holder)).to_be_visible()
    forecast = page.get_by_role("img", name=re.compile("expiring"))
    expect(forecast.locator("rect.bar")).not_to_have_count(0)
    expect(page.locator("#forecast tbody tr")).not_to_have_count(0)
    expect(page.locator(".redemptions svg").first).to_be_visible()  # its redemption's QR code
    screenshot(page, live, "points")


def _pending_code(live: Live) -> str:
    reference = demo_programme.REDEMPTIONS[0][0]
    with Ledger.open(live.url, migrate=False) as ledger:
        return redemptions.get(ledger, "demo", reference).code


def test_a_merchant_confirms_a_redemption_once_and_then_hears_when(
    page: Page, live: Live, watch: Watch
) -> None:
    watch.expected_statuses.update({403, 409})
    code = _pending_code(live)
    sign_in(page, live.merchant_key)
    expect(page.get_by_role("heading", name="Till")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link")).to_have_text(["Till"])
    second = page.context.new_page()  # a second till, looking the same code up
    for till in (page, second):
        till.goto("/console/t/demo/till")
        till.get_by_label("Redemption code").fill(code.lower())
        till.get_by_role("button", name="Look up").click()
        expect(till.locator("#till-found")).to_contain_text("coffee")
    screenshot(page, live, "till")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone at the till
    expect(page.get_by_role("button", name="Confirm redemption")).to_be_in_viewport()
    screenshot(page, live, "till-phone")
    page.get_by_role("button", name="Confirm redemption").click()
    expect(page.locator("#till-message")).to_contain_text("Confirmed")
    screenshot(page, live, "till-confirmed")
    second.get_by_role("button", name="Confirm redemption").click()
    message = second.locator("#till-message")
    expect(message).to_contain_text("already redeemed at")
    expect(second.locator("#till-found time")).to_have_count(1)
    expect(second.get_by_role("button", name="Confirm redemption")).to_have_count(0)
    answer = page.goto("/console/t/demo")
    assert answer is not None
    assert answer.status == 403


def test_a_cycle_ledger_exports_as_csv(page: Page, live: Live) -> None:
    sign_in(page, live.admin_key)
    page.get_by_role("link", name="Cashback").click()
    expect(page.get_by_role("table")).to_contain_text("cashback_ledger_id")
    screenshot(page, live, "cashback")
    page.get_by_role("link", name="Debt").click()
    expect(page.get_by_role("img", name="Net debt by status per cycle")).to_be_visible()
    screenshot(page, live, "debt")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = download.value.path()
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the debt ledger of the demo has rows"
    assert tuple(rows[0]) == DEBT_CSV_COLUMNS
    assert {"open", "partial", "repaid", "overdue"} <= {row["status"] for row in rows}


def test_a_reader_finds_no_write_control(page: Page, live: Live) -> None:
    sign_in(page, live.reader_key)
    holder = demo_programme.POINTS_HOLDERS[0][0]
    for path in (
        "/console/t/demo",
        f"/console/t/demo/budgets/{BUDGET}",
        "/console/t/demo/alerts",
        f"/console/t/demo/points?holder={holder}",
        "/console/t/demo/cycles/cashback",
        "/console/t/demo/cycles/debt",
    ):
        page.goto(path)
        posting = page.locator("form[method=post]")
        assert posting.count() == 1, path  # sign out, only
        expect(posting).to_have_attribute("action", "/console/signout")
        expect(page.locator("[data-write]")).to_have_count(0)
        expect(page.get_by_role("link", name="Till")).to_have_count(0)


def test_another_tenants_pages_are_not_found(page: Page, live: Live, watch: Watch) -> None:
    watch.expected_statuses.add(404)
    sign_in(page, live.other_tenant_key)
    expect(page.get_by_role("heading", name=f"Overview of {OTHER_TENANT}")).to_be_visible()
    for path in ("/console/t/demo", f"/console/t/demo/budgets/{BUDGET}", "/console/t/demo/till"):
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    screenshot(page, live, "not-found")
