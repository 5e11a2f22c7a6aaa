"""The console's webhooks pages, delivery health and holder list, in Debian's chromium against
a live demo server on SQLite and PostgreSQL.

The deliveries are real: this process starts an HTTP receiver, adds an endpoint for it to the
demo tenant, earns points (the events), and runs the fan-out and a delivery pass on the
server's database, as the worker would. The receiver refuses its first request (500), so one
delivery shows a failed attempt waiting for its retry beside the delivered ones. The ``page``
fixture asserts afterwards that no page asked anything of another server and that no
JavaScript error was logged.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from uuid import uuid4

import httpx2
import pytest
from playwright.sync_api import Page, expect

from rewardledger.bootstrap import Ledger
from rewardledger.events import webhooks
from rewardledger.services import demo_programme, points
from tests.browser.conftest import Live, screenshot, sign_in
from tests.webhook_receiver import fan_out_everything

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EARNS = 3
BROWSE_HOLDERS = 30  # more than a page of the holder list (25)


class _Receiver(BaseHTTPRequestHandler):
    """200 "thanks", but 500 "not yet" to the very first request."""

    calls = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        with self.lock:
            type(self).calls += 1
            first = type(self).calls == 1
        self.send_response(500 if first else 200)
        self.end_headers()
        self.wfile.write(b"not yet" if first else b"thanks")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.calls = 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint(live: Live, receiver: str) -> Iterator[str]:
    """An endpoint of the demo tenant for the receiver, with EARNS events fanned out and
    sent; removed afterwards, so that no later test sends to a receiver that is gone."""
    with Ledger.open(live.url, migrate=False) as ledger:
        fan_out_everything(ledger, "demo")  # the events before this endpoint are not for it
        added = webhooks.add_endpoint(
            ledger, "demo", url=receiver, event_types=["points.earned"], description="browser"
        )
        endpoint_id = added.endpoint.endpoint_id
        try:
            _deliver(ledger)
            yield endpoint_id
        finally:
            webhooks.remove_endpoint(ledger, "demo", endpoint_id)


def _deliver(ledger: Ledger) -> None:
    run = uuid4().hex[:8]
    for number in range(EARNS):
        points.earn(
            ledger, "demo", f"hooked-{run}", "5", dtype="invoice", reference=f"{run}-{number}"
        )
    fan_out_everything(ledger, "demo")
    with httpx2.Client() as client:
        counts = webhooks.deliver_due(ledger, "demo", http_client=client)
    assert counts.delivered == EARNS - 1, counts
    assert counts.retrying == 1, counts


def test_an_admin_sees_the_deliveries_and_redelivers_disables_and_rotates(
    page: Page, live: Live, receiver: str, endpoint: str
) -> None:
    sign_in(page, live.admin_key)
    health = page.locator("#delivery-health").get_by_role("row").filter(has_text=receiver)
    expect(health).to_contain_text("healthy")
    screenshot(page, live, "delivery-health")
    page.get_by_role("link", name="Webhooks", exact=True).first.click()
    row = page.locator("#endpoints").get_by_role("row").filter(has_text=receiver)
    expect(row).to_contain_text("points.earned")
    expect(row).to_contain_text("enabled")
    expect(row.locator("td").nth(3)).to_have_text(re.compile(r"^\d+ s$"))  # secret's age
    screenshot(page, live, "webhooks")
    row.get_by_role("link", name=receiver).click()
    expect(page.get_by_role("heading", name=f"Endpoint {receiver}")).to_be_visible()
    deliveries = page.locator("#deliveries tbody tr")
    expect(deliveries).to_have_count(EARNS)
    expect(page.locator("#deliveries")).to_contain_text("delivered")
    refused = deliveries.filter(has_text="not yet")
    expect(refused).to_contain_text("500")
    expect(refused).to_contain_text("pending")
    expect(deliveries.filter(has_text="thanks")).to_have_count(EARNS - 1)
    screenshot(page, live, "webhook")
    delivered = deliveries.filter(has_text="thanks").first
    event_id = delivered.locator("code").first.inner_text()
    delivered.get_by_role("button", name=f"Redeliver {event_id}").click()
    expect(page.locator("#webhook-message")).to_have_text(f"Event {event_id} is scheduled again.")
    expect(deliveries.filter(has_text=event_id)).to_contain_text("pending")
    page.get_by_role("button", name="Disable endpoint").click()
    expect(page.locator("#endpoint-state")).to_have_text("disabled")
    page.get_by_role("button", name="Enable endpoint").click()
    expect(page.locator("#endpoint-state")).to_have_text("enabled")
    page.get_by_label("Redeliver every event since").fill("2020-01-01T00:00")
    page.get_by_role("button", name="Redeliver range").click()
    expect(page.locator("#webhook-message")).to_contain_text("are scheduled again")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.locator("#new-secret")).to_contain_text("whsec_")
    page.goto(f"/console/t/demo/webhooks/{endpoint}")
    expect(page.get_by_role("heading", name=f"Endpoint {receiver}")).to_be_visible()
    expect(page.locator("#new-secret")).to_have_count(0)  # shown once


def test_a_reader_sees_the_webhooks_without_a_control(
    page: Page, live: Live, receiver: str, endpoint: str
) -> None:
    sign_in(page, live.reader_key)
    for path in ("/console/t/demo/webhooks", f"/console/t/demo/webhooks/{endpoint}"):
        page.goto(path)
        expect(page.locator("main")).to_contain_text(receiver)
        posting = page.locator("form[method=post]")
        assert posting.count() == 1, path  # sign out, only
        expect(posting).to_have_attribute("action", "/console/signout")
        expect(page.locator("[data-write]")).to_have_count(0)
    expect(page.locator("#deliveries tbody tr")).to_have_count(EARNS)


def _browse_holders(live: Live) -> None:
    with Ledger.open(live.url, migrate=False) as ledger:
        for number in range(BROWSE_HOLDERS):
            holder = f"browse-{number:03d}"
            points.earn(ledger, "demo", holder, "7", dtype="invoice", reference=f"{holder}-0")


def test_the_holders_are_paged_searched_and_open_with_their_lots(page: Page, live: Live) -> None:
    _browse_holders(live)  # a replay the second time: the same rows
    sign_in(page, live.admin_key)
    page.get_by_role("link", name="Points").click()
    rows = page.locator("#holders tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("browse-000")
    expect(rows.first).to_contain_text("LUMIS")
    screenshot(page, live, "holders")
    page.get_by_role("link", name="More holders").click()
    expect(rows.first).not_to_contain_text("browse-000")
    holder, earns = demo_programme.POINTS_HOLDERS[1]
    page.get_by_label("Holders from id").fill(holder)
    page.get_by_role("button", name="Browse").click()
    expect(rows.first.locator("td").first).to_have_text(holder)
    rows.first.get_by_role("link", name=holder).click()
    expect(page.get_by_role("heading", name=holder)).to_be_visible()
    lots = page.locator("#lots tbody tr")
    expect(lots).to_have_count(len(earns))
    expect(lots.first).to_contain_text(f"demo-points-{holder}-0")
    expect(lots.first.locator("td").nth(3)).to_have_text(earns[0])
