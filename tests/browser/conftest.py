"""Live servers and Debian's chromium for the console's browser tests.

A ``rewardledger serve`` process per database engine (SQLite, and PostgreSQL on a schema of
its own), seeded with the demo tenant, plus the keys the tests sign in with: the demo admin
key ``serve`` printed, a reader and a merchant key of the demo tenant, and an admin key of
another tenant. Keys are issued through the services in this process, on the same database.
The server runs no worker (``--no-worker``): a test that needs a due job done (the webhooks
tests' fan-out and delivery pass) runs it itself, so what the page shows does not change
under it.

Chromium is Debian's (/usr/bin/chromium), driven through Playwright's ``executable_path``;
Playwright never downloads a browser here. Without it the tests skip loudly, and fail in CI.
Every page records what it requested outside the server and every JavaScript error, and each
test ends by asserting there were none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from rewardledger.bootstrap import Ledger
from rewardledger.services import access
from tests.cli.helpers import fresh_postgres_schema
from tests.cli.test_serve_process import Server, serving
from tests.conftest import ENGINES, IN_CI

CHROMIUM = Path("/usr/bin/chromium")
OTHER_TENANT = "other-shop"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "console"
PAGE_TIMEOUT_MS = 15_000
pytestmark = pytest.mark.browser


@dataclass(frozen=True, slots=True)
class Live:
    """A running server and the keys of the people who use the console."""

    engine: str
    server: Server
    admin_key: str
    reader_key: str
    merchant_key: str
    other_tenant_key: str
    url: str

    @property
    def base_url(self) -> str:
        return self.server.base_url


def _issue_keys(url: str) -> tuple[str, str, str]:
    with Ledger.open(url, migrate=False) as ledger:
        reader = access.issue_key(ledger, "demo", "reader", "console test reader").key
        merchant = access.issue_key(ledger, "demo", "merchant", "console test till").key
        _, other = access.create_tenant(ledger, OTHER_TENANT, name="Another shop")
        return reader, merchant, other.key


@pytest.fixture(scope="session", params=ENGINES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """A demo server on each engine, for the whole session (starting one takes seconds)."""
    engine = str(request.param)
    state_dir = tmp_path_factory.mktemp(f"console-{engine}")
    if engine == "sqlite":
        with _live(engine, f"sqlite:///{state_dir / 'ledger.db'}", state_dir) as found:
            yield found
        return
    session_url: str = request.getfixturevalue("postgres_url")
    with fresh_postgres_schema(session_url) as url, _live(engine, url, state_dir) as found:
        yield found


@contextmanager
def _live(engine: str, url: str, state_dir: Path) -> Iterator[Live]:
    with serving(url, "--no-worker", state_dir=state_dir) as server:
        admin = server.demo_key()
        reader, merchant, other = _issue_keys(url)
        yield Live(engine, server, admin, reader, merchant, other, url)


# Package scope: the sync API runs an event loop while it is open, and asyncio.run() in any
# later test (the NATS and async client tests) would refuse to start beside it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        reason = f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does)"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: browser tests must run)")
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = CHROMIUM if CHROMIUM.exists() else Path(str(shutil.which("chromium")))
    launched = playwright.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
    try:
        yield launched
    finally:
        launched.close()


@dataclass
class Watch:
    """What a page did that it should not: requests outside the server, JavaScript errors.

    A page answered with an error status on purpose (a 404 for another tenant) makes Chromium
    log "Failed to load resource" for it; a test names those statuses in ``expected_statuses``.
    """

    base_url: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def request(self, url: str) -> None:
        if not url.startswith((self.base_url + "/", "data:", "blob:", "about:")):
            self.outside.append(url)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(f"status of {status}" in text for status in self.expected_statuses):
            return
        self.errors.append(text)

    def check(self) -> None:
        assert self.outside == [], f"requests outside the server: {self.outside}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@pytest.fixture
def watch(live: Live) -> Watch:
    return Watch(live.base_url)


@pytest.fixture
def page(browser: Browser, live: Live, watch: Watch) -> Iterator[Page]:
    """A fresh browser context (no cookies) on a phone-or-desk-sized window, watched."""
    context = browser.new_context(
        base_url=live.base_url, accept_downloads=True, viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    opened = context.new_page()
    opened.on("request", lambda request: watch.request(request.url))
    opened.on("console", watch.console)
    opened.on("pageerror", lambda error: watch.errors.append(str(error)))
    try:
        yield opened
        watch.check()
    finally:
        context.close()


def sign_in(page: Page, key: str) -> None:
    page.goto("/console")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/t/**")


def screenshot(page: Page, live: Live, name: str) -> None:
    """docs/console/<name>.png, taken on the SQLite server only (one picture per page)."""
    if live.engine == "sqlite":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
