"""The metrics of several server processes (``serve --workers N``): each counts in files under
PROMETHEUS_MULTIPROC_DIR, and a scrape sums them, so any process answers with the totals.
Two real processes count here; the scrape is read from their files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from rewardledger.http.metrics import exposition
from rewardledger.ledger.engine import Ledger

ROOT = Path(__file__).resolve().parents[2]
REQUESTS_EACH = 7
SERVE_SOME = f"""
from fastapi.testclient import TestClient
from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.http.app import create_app
with Ledger.open({{url!r}}) as ledger:
    client = TestClient(create_app(ledger, Settings()))
    for _ in range({REQUESTS_EACH}):
        assert client.get("/readyz").status_code == 200
"""


def test_a_scrape_sums_the_requests_every_process_counted(
    ledger: Ledger, db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    environment.update(PROMETHEUS_MULTIPROC_DIR=str(folder), PYTHONPATH=str(ROOT / "src"))
    processes = [
        subprocess.Popen([sys.executable, "-c", SERVE_SOME.format(url=db_url)], env=environment)
        for _ in range(2)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0]
    text = exposition(ledger, folder).decode()
    counted = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "rewardledger_http_request_duration_seconds_count"
        and sample.labels == {"route": "/readyz", "method": "GET", "status": "200"}
    )
    assert counted == 2 * REQUESTS_EACH
    assert "rewardledger_outbox_lag_seconds" in text
