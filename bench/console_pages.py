"""Each console page's answer time on the demo tenant, beside GET /healthz in the same run;
and beside the same page of a tenant with a million points holders (``--large``).

    .venv/bin/python bench/console_pages.py                 # SQLite, about half a minute
    .venv/bin/python bench/console_pages.py --rounds 5 --requests 20
    .venv/bin/python bench/console_pages.py --holders 5000     # a longer holder list
    .venv/bin/python bench/console_pages.py --engine postgresql --large 1000000 \
        --keep bench_console_1m --rounds 5 --requests 10      # about 6 minutes the first time

In process (Starlette's TestClient, so no network between them): the demo tenant is seeded
into a fresh database with a webhook endpoint whose deliveries (every event of the demo, sent
to a local receiver) have their attempts, an admin key signs in once, then each round asks
every page ``--requests`` times, and /healthz as many times, pages in a shuffled order so
that drift on a shared machine hits them alike. Printed per page: the median over rounds of
the mean milliseconds per answer, and its ratio to /healthz's. The target is under 300 ms a
page.

``--large N`` (PostgreSQL) seeds a second tenant, ``large``, with the same demo programme and
its own delivered endpoint, then adds N points holders set-based in SQL
(``bench/large_tenant.py`` says what it writes and how). Each page is then also asked of
``large`` in the same round, the two tenants in an order that alternates round by round, and
the figure is the ratio large / demo taken round by round (median). The large tenant's pages
include a page of holders deep in the list (by its cursor), the list started at an id (the
holder search), one holder, and the till's look-up of a code (a POST that writes nothing).
``--keep SCHEMA`` builds into that schema once and reuses it on later runs (drop it with
``--drop``); without it the schema is private to the run and dropped after it.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx2
import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from large_tenant import REDEMPTION_EVERY, add_holders, holder_name
from private_schema import drop_schema, private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.domain.paging import encode_cursor
from rewardledger.events import webhooks
from rewardledger.http.app import create_app
from rewardledger.services import access, demo, demo_programme, points, redemptions

TARGET_MS = 300
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
LARGE_TENANT = "large"
HOLDER = demo_programme.POINTS_HOLDERS[0][0]
PAGES = {
    "overview": "/console/t/{tenant}",
    "budget": f"/console/t/{{tenant}}/budgets/{demo_programme.BUDGET}",
    "alerts": "/console/t/{tenant}/alerts",
    "holders": "/console/t/{tenant}/points",
    "holders deep": "/console/t/{tenant}/points?cursor={deep}",
    "holder search": "/console/t/{tenant}/points?from={search}",
    "holder": "/console/t/{tenant}/points?holder={holder}",
    "webhooks": "/console/t/{tenant}/webhooks",
    "webhook": "/console/t/{tenant}/webhooks/{endpoint}",
    "till": "/console/t/{tenant}/till",
    "till look": "POST /console/t/{tenant}/till",
    "cashback": "/console/t/{tenant}/cycles/cashback",
    "cashback p2": "/console/t/{tenant}/cycles/cashback?cursor={cashback}",
    "debt": "/console/t/{tenant}/cycles/debt",
    "debt overdue": "/console/t/{tenant}/cycles/debt?status=overdue",
    "debt.csv": "/console/t/{tenant}/cycles/debt/export.csv?holder={debtor}",
    "healthz": "/healthz",
}


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return


def _delivered_endpoint(ledger: Ledger, tenant_id: str) -> str:
    """An endpoint of every event type, each event of the tenant delivered to it once."""
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/hooks"
        added = webhooks.add_endpoint(ledger, tenant_id, url=url, event_types=["*"])
        while webhooks.fan_out(ledger, tenant_id).delivered:
            pass
        with httpx2.Client() as client:
            while webhooks.deliver_due(ledger, tenant_id, http_client=client).claimed:
                pass
    finally:
        receiver.shutdown()
        receiver.server_close()
    return added.endpoint.endpoint_id


def _signed_in(client: TestClient, key: str) -> str:
    """Sign in with ``key``; the session's CSRF token."""
    form = client.get("/console/signin")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None, form.text
    answer = client.post("/console/signin", data={"key": key, "csrf": found.group(1)})
    assert answer.status_code == 200, answer.text
    return found.group(1)


def _mean_ms(ask: Callable[[], object], requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        ask()
    return (time.perf_counter() - started) * 1000 / requests


def _asker(client: TestClient, path: str, form: dict[str, str]) -> Callable[[], object]:
    def ask() -> object:
        posted = path.startswith("POST ")
        answer = client.post(path[5:], data=form) if posted else client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return answer

    return ask


def _paths(ledger: Ledger, tenant_id: str, endpoint: str, holders: int) -> dict[str, str]:
    """Every page of ``PAGES`` for ``tenant_id``; with bulk holders, its deep and searched
    pages are half way in and at three quarters of them, its holder one with a redemption."""
    if holders:
        middle, search = holder_name(holders // 2), holder_name(holders * 3 // 4)
        holder = holder_name(REDEMPTION_EVERY * max(1, holders // (2 * REDEMPTION_EVERY)))
        debtor = holder_name(holders // 2 // 10 * 10 or 10)
    else:
        middle, search, holder, debtor = HOLDER, HOLDER, HOLDER, demo_programme.DEBT_OPEN
    names = {
        "tenant": tenant_id,
        "endpoint": endpoint,
        "deep": encode_cursor(demo.POINTS, middle),
        "search": search,
        "holder": holder,
        "cashback": encode_cursor(middle, ledger.get_tenant(tenant_id).cycle_tag(ledger.clock())),
        "debtor": debtor,
    }
    return {name: path.format(**names) for name, path in PAGES.items()}


def _till_form(ledger: Ledger, tenant_id: str, csrf: str, holders: int) -> dict[str, str]:
    reference = f"bulk-redemption-{REDEMPTION_EVERY}" if holders else "demo-redemption-1"
    code = redemptions.get(ledger, tenant_id, reference).code
    return {"code": code, "step": "look", "csrf": csrf}


@contextmanager
def _database(options: argparse.Namespace, folder: str) -> Iterator[tuple[str, bool]]:
    """(url, whether it holds the tenants already)."""
    if options.engine == "sqlite":
        yield f"sqlite:///{Path(folder) / 'console.db'}", False
        return
    if options.keep is None:
        with private_schema(options.postgres, "bench_console") as (url, _):
            yield url, False
        return
    with psycopg.connect(options.postgres, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (options.keep,)
        ).fetchone()
        if found is not None and options.drop:
            drop_schema(connection, options.keep)
            found = None
        if found is None:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(options.keep)))
    separator = "&" if "?" in options.postgres else "?"
    yield f"{options.postgres}{separator}options=-csearch_path%3D{options.keep}", found is not None


def _build(ledger: Ledger, url: str, options: argparse.Namespace) -> None:
    demo.seed(ledger)
    for number in range(options.holders):
        holder = f"bench-{number:07d}"
        points.earn(ledger, demo.DEMO_TENANT, holder, "5", dtype="invoice", reference=holder)
    _delivered_endpoint(ledger, demo.DEMO_TENANT)
    if options.large:
        demo.seed(ledger, tenant_id=LARGE_TENANT)
        _delivered_endpoint(ledger, LARGE_TENANT)
        started = time.perf_counter()
        add_holders(url, LARGE_TENANT, options.large)
        print(f"{options.large:,} holders added in {time.perf_counter() - started:.0f} s")


def _endpoint_of(ledger: Ledger, tenant_id: str) -> str:
    return webhooks.list_endpoints(ledger, tenant_id, limit=1).endpoints[0].endpoint_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument(
        "--holders", type=int, default=0, help="holders to add to the demo's (one earn each)"
    )
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--large", type=int, default=0, help="holders of the large tenant")
    parser.add_argument("--keep", help="PostgreSQL schema to build once and reuse")
    parser.add_argument("--drop", action="store_true", help="drop --keep's schema first")
    options = parser.parse_args()
    assert not options.large or options.engine == "postgresql", "--large needs PostgreSQL"
    tenants = [demo.DEMO_TENANT] + ([LARGE_TENANT] if options.large else [])
    with (
        tempfile.TemporaryDirectory() as folder,
        _database(options, folder) as (url, built),
        Ledger.open(url) as ledger,
    ):
        if not built:
            _build(ledger, url, options)
        app = create_app(ledger, Settings(database_url=url, state_dir=Path(folder)))
        askers: dict[str, dict[str, Callable[[], object]]] = {name: {} for name in PAGES}
        with ExitStack() as clients:
            for tenant_id in tenants:
                key = access.issue_key(ledger, tenant_id, "admin", "bench").key
                session = clients.enter_context(TestClient(app))
                csrf = _signed_in(session, key)
                holders = options.large if tenant_id == LARGE_TENANT else 0
                endpoint = _endpoint_of(ledger, tenant_id)
                form = _till_form(ledger, tenant_id, csrf, holders)
                for name, path in _paths(ledger, tenant_id, endpoint, holders).items():
                    askers[name][tenant_id] = _asker(session, path, form)
            timings = _measure(askers, tenants, options)
    _print(timings, tenants)


def _measure(
    askers: dict[str, dict[str, Callable[[], object]]],
    tenants: list[str],
    options: argparse.Namespace,
) -> dict[str, dict[str, list[float]]]:
    timings = {name: {tenant: [] for tenant in tenants} for name in askers}
    for number in range(options.rounds):
        order = list(askers)
        random.shuffle(order)
        for name in order:
            for tenant in tenants if number % 2 == 0 else reversed(tenants):
                asked = askers[name][tenant]
                timings[name][tenant].append(_mean_ms(asked, options.requests))
    return timings


def _print(timings: dict[str, dict[str, list[float]]], tenants: list[str]) -> None:
    baseline = statistics.median(timings["healthz"][demo.DEMO_TENANT])
    large = len(tenants) > 1
    header = f"{'page':<14} {'demo ms':>8} {'x healthz':>10}"
    if large:
        header += f" {'large ms':>9} {'large/demo':>11}"
    print(f"{header}  target < {TARGET_MS} ms")
    for name, found in timings.items():
        demo_ms = statistics.median(found[demo.DEMO_TENANT])
        line = f"{name:<14} {demo_ms:>8.1f} {demo_ms / baseline:>10.1f}"
        worst = demo_ms
        if large:
            large_ms = statistics.median(found[LARGE_TENANT])
            ratios = [
                b / a for a, b in zip(found[demo.DEMO_TENANT], found[LARGE_TENANT], strict=True)
            ]
            line += f" {large_ms:>9.1f} {statistics.median(ratios):>11.2f}"
            worst = max(worst, large_ms)
        print(f"{line}  {'ok' if worst < TARGET_MS else 'SLOW'}")


if __name__ == "__main__":
    main()
