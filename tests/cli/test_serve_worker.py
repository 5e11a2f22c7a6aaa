"""``serve`` and its embedded worker, as real processes: on SQLite a due hold expires without
anyone calling ``jobs run``, and ``--no-worker`` leaves it pending; under ``--workers 2`` on
PostgreSQL ``/metrics`` answers from either process with the totals of both."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2 as httpx
from prometheus_client.parser import text_string_to_metric_families

from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest, TransferState
from tests.builders import fund, programme
from tests.cli.helpers import fresh_postgres_schema
from tests.cli.test_serve_process import REQUEST_SECONDS_MAX, serving

HOLD_TIMEOUT_SECONDS = 1
WAIT_SECONDS_MAX = 30
FAST_WORKER = {"REWARDLEDGER_WORKER_TICK_SECONDS": "0.2"}


def ledger_with_a_short_hold(url: str) -> None:
    with Ledger.open(url) as ledger:
        ledger.create_tenant("shop", timezone="UTC")
        p = programme(ledger, "shop")
        fund(ledger, p, p.wallets[0], "10.00")
        hold = TransferRequest(
            "short-hold",
            p.wallets[0],
            p.wallets[1],
            "USD",
            "1.00",
            pending=True,
            timeout_seconds=HOLD_TIMEOUT_SECONDS,
        )
        ledger.transfer("shop", hold)


def hold_state(url: str) -> TransferState:
    with Ledger.open(url, migrate=False) as ledger:
        return ledger.get_transfer("shop", "short-hold").state


def test_serve_on_sqlite_expires_a_due_hold_with_its_embedded_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger_with_a_short_hold(url)
    with serving(url, "--no-demo", state_dir=tmp_path, env=FAST_WORKER) as server:
        server.wait_until(
            "the hold expired by the embedded worker",
            lambda: hold_state(url) is TransferState.EXPIRED,
        )
    assert '"event": "worker_step_finished"' in "".join(server.stderr)


def test_serve_no_worker_leaves_a_due_hold_pending(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger_with_a_short_hold(url)
    with serving(url, "--no-demo", "--no-worker", state_dir=tmp_path, env=FAST_WORKER) as server:
        time.sleep(HOLD_TIMEOUT_SECONDS + 3)  # fifteen ticks of a worker, were there one
        assert hold_state(url) is TransferState.PENDING
    assert "worker_step" not in "".join(server.stderr)


def readyz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "rewardledger_http_request_duration_seconds_count"
        and sample.labels.get("route") == "/readyz"
    )


def test_metrics_under_two_workers_on_postgresql_sum_both_processes(
    postgres_url: str, tmp_path: Path
) -> None:
    requests = 40
    with (
        fresh_postgres_schema(postgres_url) as url,
        serving(url, "--workers", "2", "--no-demo", state_dir=tmp_path) as server,
        httpx.Client(timeout=REQUEST_SECONDS_MAX) as client,
    ):
        server.wait_until("two worker processes", lambda: len(server.worker_pids()) == 2)
        for _ in range(requests):
            # A new connection each time, so that both processes get some of them.
            assert httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
        scrapes = [client.get(f"{server.base_url}/metrics") for _ in range(6)]
        assert all(scrape.status_code == 200 for scrape in scrapes)
        assert [readyz_count(scrape.text) for scrape in scrapes] == [requests] * len(scrapes)
        assert "worker_step" not in "".join(server.stderr)  # no worker embedded on PostgreSQL
