"""Expiring-soon reminders from two processes at once on one PostgreSQL database: between them
they write one reminder per holder, never two (the key of ``points_reminders``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.points import ExpiryKind, ExpiryPolicy
from rewardledger.events import STORE as EVENTS
from rewardledger.events.views import START
from rewardledger.services import points
from tests.builders import FakeClock
from tests.cli.helpers import fresh_postgres_schema
from tests.conftest import wait_for_feed

ROOT = Path(__file__).resolve().parents[2]
TENANT = "reminded"
# More holders than one transaction of the step covers, so each process runs several.
HOLDERS = 260
WAIT_SECONDS_MAX = 120

# Each process waits for the go file, so that both run the step at the same moment.
SCRIPT = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from rewardledger.bootstrap import Ledger
from rewardledger.services import points
url, now, go = sys.argv[1], datetime.fromisoformat(sys.argv[2]), Path(sys.argv[3])
with Ledger.open(url, clock=lambda: now, migrate=False) as ledger:
    ledger.get_tenant("reminded")
    while not go.exists():
        time.sleep(0.01)
    print(json.dumps(points.remind_expiring(ledger, "reminded", days_ahead=7)))
"""


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    with fresh_postgres_schema(postgres_url) as url:
        yield url


def test_two_processes_at_once_write_one_reminder_per_holder(pg_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    with Ledger.open(pg_url, clock=clock) as ledger:
        ledger.create_tenant(TENANT, timezone="UTC")
        points.configure(ledger, TENANT, "LUMIS", expiry=ExpiryPolicy(ExpiryKind.AFTER, days=10))
        for n in range(HOLDERS):
            points.earn(ledger, TENANT, f"h{n:03}", "10", dtype="invoice", reference=f"e{n}")
        now: datetime = clock.advance(days=5)
        go = tmp_path / "go"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
        environment["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{ROOT}"
        command = [sys.executable, "-c", SCRIPT, pg_url, now.isoformat(), str(go)]
        processes = [
            subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        time.sleep(2)  # both opened and waiting
        go.touch()
        outputs = [p.communicate(timeout=WAIT_SECONDS_MAX)[0] for p in processes]
        assert [p.returncode for p in processes] == [0, 0], outputs
        reminded = [json.loads(out)["holders_reminded"] for out in outputs]
        assert sum(reminded) == HOLDERS  # each holder reminded by one process or the other
        wait_for_feed(ledger, TENANT)
        events = ledger.extension(EVENTS).read_after(TENANT, START, 10 * HOLDERS)
        subjects = Counter(e.subject_id for e in events if e.event_type == "points.expiring_soon")
        assert len(subjects) == HOLDERS
        assert set(subjects.values()) == {1}
