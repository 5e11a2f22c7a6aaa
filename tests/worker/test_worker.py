"""The worker in one process, on both engines: each step runs once per due time, on its own
schedule (per tenant where settings say so); a failure is recorded and stops nothing; a worker
told to stop gives back what it did not start; a lease that runs out frees a step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rewardledger.events import STORE as EVENTS
from rewardledger.events.views import START as EVENTS_START
from rewardledger.ledger.engine import Ledger
from rewardledger.services import jobs
from rewardledger.worker import STORE, Lease, Schedule, Worker, next_due
from tests.builders import FakeClock, fund, programme
from tests.conftest import wait_for_feed
from tests.worker.steps_for_tests import SINK, counting, failing, file_relay


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_step_runs_once_per_due_time_then_again_when_its_interval_has_passed(
    ledger: Ledger, tenant_id: str, clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    worker = Worker(ledger, [counting("count", out, interval_seconds=60)], Schedule())
    worker.tenant_ids = [tenant_id]
    assert [run.step for run in worker.run_due()] == ["count"]
    assert worker.run_due() == []
    clock.advance(seconds=59)
    assert worker.run_due() == []
    clock.advance(seconds=1)
    assert [run.counts for run in worker.run_due()] == [{"runs": 1}]
    assert len(lines(out)) == 2


def test_settings_change_a_steps_interval_for_every_tenant_or_for_one(
    ledger: Ledger, tenant_id: str, clock: FakeClock, tmp_path: Path
) -> None:
    other = f"{tenant_id}b"
    ledger.create_tenant(other, timezone="UTC")
    step = counting("count", tmp_path / "runs.txt", interval_seconds=3_600)
    schedule = Schedule({"count": 600, f"{other}/count": 60})
    worker = Worker(ledger, [step], schedule, tenant_ids=[tenant_id, other])
    assert len(worker.run_due()) == 2
    clock.advance(seconds=60)
    assert [run.tenant_id for run in worker.run_due()] == [other]
    clock.advance(seconds=540)
    assert {run.tenant_id for run in worker.run_due()} == {tenant_id, other}
    assert schedule.unknown_steps(["count"]) == []
    assert Schedule({"acme/cuont": 5}).unknown_steps(["count"]) == ["acme/cuont"]


def test_the_next_due_time_stays_on_the_steps_grid_after_a_long_pause() -> None:
    due = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_due(due, due + timedelta(seconds=5), 60) == due + timedelta(seconds=60)
    late = due + timedelta(hours=5, seconds=1)
    assert next_due(due, late, 3_600) == due + timedelta(hours=6)


def test_a_failing_step_is_recorded_stops_nothing_and_is_resolved_when_it_succeeds(
    ledger: Ledger, tenant_id: str, clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    broken = failing("flaky")
    worker = Worker(ledger, [broken, counting("after", out)], Schedule(), tenant_ids=[tenant_id])
    runs = worker.run_due()
    assert [(run.step, run.failure is None) for run in runs] == [("flaky", False), ("after", True)]
    assert runs[0].failure is not None
    assert runs[0].failure.attempts == 1
    assert [f.step for f in jobs.failures(ledger, tenant_id)] == ["flaky"]
    clock.advance(seconds=60)
    fixed = counting("flaky", out, interval_seconds=60)
    Worker(ledger, [fixed], Schedule(), tenant_ids=[tenant_id]).run_due()
    assert jobs.failures(ledger, tenant_id) == []


def test_a_relay_step_carries_every_event_to_its_sink(
    ledger: Ledger, tenant_id: str, tmp_path: Path
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    fund(ledger, p, p.wallets[0], "1.00")
    out = tmp_path / "sink.txt"
    wait_for_feed(ledger, tenant_id)
    Worker(ledger, [file_relay(out)], Schedule(), tenant_ids=[tenant_id]).run_due()
    events = ledger.extension(EVENTS).read_after(tenant_id, EVENTS_START, 1_000)
    assert [line.split()[1] for line in lines(out) if line.startswith("event")] == [
        e.event_id for e in events
    ]
    assert ledger.extension(EVENTS).sink_positions(tenant_id)[SINK] == events[-1].at


def test_a_worker_told_to_stop_gives_back_the_steps_it_did_not_start(
    ledger: Ledger, tenant_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "runs.txt"
    first = counting("first", out)
    worker = Worker(ledger, [], Schedule(), tenant_ids=[tenant_id])

    def first_then_stop(ledger: Ledger, tenant: str) -> dict[str, int]:
        worker.stop.set()
        return dict(first.run(ledger, tenant))

    worker.steps = [first.__class__("first", 3_600, first_then_stop), counting("second", out)]
    assert [run.step for run in worker.run_due()] == ["first"]
    other = Worker(ledger, worker.steps[1:], Schedule(), tenant_ids=[tenant_id])
    assert [run.step for run in other.run_due()] == ["second"]


def test_a_claim_whose_lease_ran_out_is_taken_by_another_worker_and_the_first_loses_it(
    ledger: Ledger, tenant_id: str, clock: FakeClock, tmp_path: Path
) -> None:
    store = ledger.extension(STORE)
    now = clock()
    held = store.claim_due(tenant_id, ["count"], Lease("dead", now, now + timedelta(seconds=30)))
    assert [claim.step for claim in held] == ["count"]
    step = counting("count", tmp_path / "runs.txt")
    late = Worker(ledger, [step], Schedule(), tenant_ids=[tenant_id])
    assert late.run_due() == []
    clock.advance(seconds=31)
    assert [run.due_at for run in late.run_due()] == [held[0].due_at]
    assert not store.finish(tenant_id, "count", "dead", now + timedelta(hours=1))
