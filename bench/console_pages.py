"""Each console page's answer time on the demo tenant, beside GET /healthz in the same run.

    .venv/bin/python bench/console_pages.py                 # SQLite, about half a minute
    .venv/bin/python bench/console_pages.py --rounds 5 --requests 20
    .venv/bin/python bench/console_pages.py --holders 5000     # a longer holder list

In process (Starlette's TestClient, so no network between them): the demo tenant is seeded
into a fresh SQLite database with a webhook endpoint whose deliveries (every event of the
demo, sent to a local receiver) have their attempts, an admin key signs in once, then each
round asks every page ``--requests`` times, and /healthz as many times, pages in a shuffled
order so that drift on a shared machine hits them alike. Printed per page: the median over
rounds of the mean milliseconds per answer, and its ratio to /healthz's. The target is under
300 ms a page.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx2
from fastapi.testclient import TestClient

from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.events import webhooks
from rewardledger.http.app import create_app
from rewardledger.services import access, demo, demo_programme, points

TARGET_MS = 300
HOLDER = demo_programme.POINTS_HOLDERS[0][0]
PAGES = {
    "overview": "/console/t/demo",
    "budget": f"/console/t/demo/budgets/{demo_programme.BUDGET}",
    "alerts": "/console/t/demo/alerts",
    "points": f"/console/t/demo/points?holder={HOLDER}",
    "holders": "/console/t/demo/points",
    "webhooks": "/console/t/demo/webhooks",
    "webhook": "/console/t/demo/webhooks/{endpoint}",
    "till": "/console/t/demo/till",
    "cashback": "/console/t/demo/cycles/cashback",
    "debt": "/console/t/demo/cycles/debt",
    "debt.csv": "/console/t/demo/cycles/debt/export.csv",
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


def _delivered_endpoint(ledger: Ledger) -> str:
    """An endpoint of every event type, each event of the demo delivered to it once."""
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/hooks"
        added = webhooks.add_endpoint(ledger, demo.DEMO_TENANT, url=url, event_types=["*"])
        while webhooks.fan_out(ledger, demo.DEMO_TENANT).delivered:
            pass
        with httpx2.Client() as client:
            while webhooks.deliver_due(ledger, demo.DEMO_TENANT, http_client=client).claimed:
                pass
    finally:
        receiver.shutdown()
        receiver.server_close()
    return added.endpoint.endpoint_id


def _signed_in(client: TestClient, key: str) -> None:
    form = client.get("/console/signin")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None, form.text
    answer = client.post("/console/signin", data={"key": key, "csrf": found.group(1)})
    assert answer.status_code == 200, answer.text


def _mean_ms(client: TestClient, path: str, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    return (time.perf_counter() - started) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument(
        "--holders", type=int, default=0, help="holders to add to the demo's (one earn each)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'console.db'}"
        with Ledger.open(url) as ledger:
            demo.seed(ledger)
            for number in range(options.holders):
                holder = f"bench-{number:07d}"
                points.earn(
                    ledger, demo.DEMO_TENANT, holder, "5", dtype="invoice", reference=holder
                )
            key = access.issue_key(ledger, demo.DEMO_TENANT, "admin", "bench").key
            endpoint = _delivered_endpoint(ledger)
            paths = {name: path.format(endpoint=endpoint) for name, path in PAGES.items()}
            app = create_app(ledger, Settings(database_url=url, state_dir=Path(folder)))
            with TestClient(app) as client:
                _signed_in(client, key)
                timings: dict[str, list[float]] = {name: [] for name in PAGES}
                for _ in range(options.rounds):
                    order = list(PAGES)
                    random.shuffle(order)
                    for name in order:
                        timings[name].append(_mean_ms(client, paths[name], options.requests))
    baseline = statistics.median(timings["healthz"])
    print(f"{'page':<10} {'ms':>8} {'x healthz':>10}  target < {TARGET_MS} ms")
    for name, found in timings.items():
        median = statistics.median(found)
        verdict = "ok" if median < TARGET_MS else "SLOW"
        print(f"{name:<10} {median:>8.1f} {median / baseline:>10.1f}  {verdict}")


if __name__ == "__main__":
    main()
