"""Each console page's answer time on the demo tenant, beside GET /healthz in the same run.

    .venv/bin/python bench/console_pages.py                 # SQLite, about half a minute
    .venv/bin/python bench/console_pages.py --rounds 5 --requests 20

In process (Starlette's TestClient, so no network between them): the demo tenant is seeded
into a fresh SQLite database, an admin key signs in once, then each round asks every page
``--requests`` times, and /healthz as many times, pages in a shuffled order so that drift on
a shared machine hits them alike. Printed per page: the median over rounds of the mean
milliseconds per answer, and its ratio to /healthz's. The target is under 300 ms a page.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.http.app import create_app
from rewardledger.services import access, demo, demo_programme

TARGET_MS = 300
HOLDER = demo_programme.POINTS_HOLDERS[0][0]
PAGES = {
    "overview": "/console/t/demo",
    "budget": f"/console/t/demo/budgets/{demo_programme.BUDGET}",
    "alerts": "/console/t/demo/alerts",
    "points": f"/console/t/demo/points?holder={HOLDER}",
    "till": "/console/t/demo/till",
    "cashback": "/console/t/demo/cycles/cashback",
    "debt": "/console/t/demo/cycles/debt",
    "debt.csv": "/console/t/demo/cycles/debt/export.csv",
    "healthz": "/healthz",
}


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
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'console.db'}"
        with Ledger.open(url) as ledger:
            demo.seed(ledger)
            key = access.issue_key(ledger, demo.DEMO_TENANT, "admin", "bench").key
            app = create_app(ledger, Settings(database_url=url, state_dir=Path(folder)))
            with TestClient(app) as client:
                _signed_in(client, key)
                timings: dict[str, list[float]] = {name: [] for name in PAGES}
                for _ in range(options.rounds):
                    order = list(PAGES)
                    random.shuffle(order)
                    for name in order:
                        timings[name].append(_mean_ms(client, PAGES[name], options.requests))
    baseline = statistics.median(timings["healthz"])
    print(f"{'page':<10} {'ms':>8} {'x healthz':>10}  target < {TARGET_MS} ms")
    for name, found in timings.items():
        median = statistics.median(found)
        verdict = "ok" if median < TARGET_MS else "SLOW"
        print(f"{name:<10} {median:>8.1f} {median / baseline:>10.1f}  {verdict}")


if __name__ == "__main__":
    main()
