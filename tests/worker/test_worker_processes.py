"""Worker processes on one PostgreSQL database: two at once never run a step of a tenant twice
for one due time; one killed with SIGKILL mid-step leaves its step to another once its lease
runs out, with no event lost; one sent SIGTERM finishes its step and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rewardledger.bootstrap import Ledger
from rewardledger.events import STORE as EVENTS
from rewardledger.events.views import START
from tests.builders import fund, programme
from tests.cli.helpers import fresh_postgres_schema
from tests.cli.test_serve_process import free_port
from tests.conftest import wait_for_feed

ROOT = Path(__file__).resolve().parents[2]
TENANTS = 12
COUNTING_STEPS = ("count_a", "count_b", "count_c", "count_d")
WAIT_SECONDS_MAX = 60


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    with fresh_postgres_schema(postgres_url) as url:
        Ledger.open(url).close()  # migrated once, before the workers start
        yield url


def start_worker(url: str, out: Path, steps: str, *args: str, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    environment.update(
        PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        WORKER_TEST_OUT=str(out),
        WORKER_TEST_STEPS=steps,
        REWARDLEDGER_WORKER_TICK_SECONDS="0.1",
        **env,
    )
    command = [sys.executable, "-m", "tests.worker.run_worker", "--db", url, "worker", *args]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(what: str, check: object, *processes: subprocess.Popen[str]) -> None:
    assert callable(check)
    deadline = time.monotonic() + WAIT_SECONDS_MAX
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes:
            if process.poll() is not None and process.returncode != 0:
                pytest.fail(f"a worker exited with {process.returncode}: {process.stderr}")
        time.sleep(0.05)
    pytest.fail(f"{what} not within {WAIT_SECONDS_MAX}s")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=WAIT_SECONDS_MAX)
    return process.returncode, stderr


def test_two_workers_never_run_a_step_of_a_tenant_twice_for_one_due_time(
    pg_url: str, tmp_path: Path
) -> None:
    with Ledger.open(pg_url) as ledger:
        for index in range(TENANTS):
            ledger.create_tenant(f"w{index:02d}", timezone="UTC")
    out = tmp_path / "runs.txt"
    steps = ",".join(COUNTING_STEPS)
    only = [arg for name in COUNTING_STEPS for arg in ("--step", name)]
    workers = [start_worker(pg_url, out, steps, *only) for _ in range(2)]
    expected = TENANTS * len(COUNTING_STEPS)
    try:
        wait_for("every step of every tenant run", lambda: len(lines(out)) >= expected, *workers)
        time.sleep(1.0)  # ten more ticks of each worker: nothing is due again for an hour
    finally:
        results = [stop(worker) for worker in workers]
    assert [code for code, _ in results] == [0, 0], results
    runs = Counter((line.split()[0], line.split()[1]) for line in lines(out))
    assert len(runs) == expected
    assert set(runs.values()) == {1}
    by_process = Counter(line.split()[2] for line in lines(out))
    assert len(by_process) == 2, f"one worker did everything: {by_process}"


def test_a_worker_killed_mid_step_leaves_it_to_another_once_its_lease_ran_out(
    pg_url: str, tmp_path: Path
) -> None:
    with Ledger.open(pg_url) as ledger:
        ledger.create_tenant("killed", timezone="UTC")
        p = programme(ledger, "killed", wallets=1)
        for _ in range(3):
            fund(ledger, p, p.wallets[0], "1.00")
        wait_for_feed(ledger, "killed")  # the slow sink is given every event
    out = tmp_path / "sink.txt"
    slow = start_worker(
        pg_url,
        out,
        "file_relay",
        "--step",
        "file_relay",
        REWARDLEDGER_WORKER_LEASE_SECONDS="3",
        WORKER_TEST_SLEEP_SECONDS="120",
    )
    try:
        wait_for("the slow sink started", lambda: any(s.startswith("started") for s in lines(out)))
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=WAIT_SECONDS_MAX)
    finally:
        if slow.poll() is None:
            slow.kill()
        slow.communicate()
    killed_at = time.monotonic()
    assert not any(s.startswith("event") for s in lines(out))
    second = start_worker(pg_url, out, "file_relay", "--step", "file_relay")
    try:
        wait_for("the step run again", lambda: any(s.startswith("done") for s in lines(out)))
    finally:
        code, stderr = stop(second)
    assert code == 0, stderr
    assert time.monotonic() - killed_at >= 2  # not before the first lease ran out
    with Ledger.open(pg_url) as ledger:
        events = ledger.extension(EVENTS).read_after("killed", START, 1_000)
        place = ledger.extension(EVENTS).sink_positions("killed")["test-file"]
    delivered = [s.split()[1] for s in lines(out) if s.startswith("event")]
    assert delivered == [event.event_id for event in events]
    assert place == events[-1].at
    assert f"started killed {second.pid}" in lines(out)


def step_runs(port: int) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.TransportError:
        return 0.0
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "rewardledger_job_runs_total" and sample.labels == {"step": "count_a"}
    )


def test_a_worker_sent_sigterm_finishes_its_step_then_exits_0(pg_url: str, tmp_path: Path) -> None:
    with Ledger.open(pg_url) as ledger:
        ledger.create_tenant("stopped", timezone="UTC")
        p = programme(ledger, "stopped", wallets=1)
        fund(ledger, p, p.wallets[0], "1.00")
    out = tmp_path / "sink.txt"
    worker = start_worker(
        pg_url, out, "file_relay", "--step", "file_relay", WORKER_TEST_SLEEP_SECONDS="1"
    )
    wait_for("the sink started", lambda: any(s.startswith("started") for s in lines(out)))
    code, stderr = stop(worker)
    assert code == 0, stderr
    assert lines(out)[-1] == f"done stopped {worker.pid}"
    assert '"event": "worker_stopped"' in stderr


def test_a_worker_serves_its_step_runs_as_metrics(pg_url: str, tmp_path: Path) -> None:
    with Ledger.open(pg_url) as ledger:
        ledger.create_tenant("measured", timezone="UTC")
    port = free_port()
    out = tmp_path / "runs.txt"
    worker = start_worker(pg_url, out, "count_a", "--step", "count_a", "--metrics-port", str(port))
    try:
        wait_for("the run counted in the worker's metrics", lambda: step_runs(port) == 1, worker)
    finally:
        code, stderr = stop(worker)
    assert code == 0, stderr
