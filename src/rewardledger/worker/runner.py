"""The worker: runs each due step of each tenant on the step's own schedule, in one process
beside any number of others.

Owns: the loop of a worker (find the scopes, claim what is due, run it, give it back), the
next due time of a step and the worker's stop. Protects:
- a step of a tenant runs in one worker per due time: it runs only under a claim
  (``WorkerRunStore.claim_due``), and its next due time is written when it is given back;
- nothing is lost when a worker stops: on ``stop`` it finishes the step it is running, gives
  back the claims it has not started (still due, for any worker) and returns; a worker killed
  outright leaves claims whose lease runs out, and the next worker runs those steps again
  (every step is safe twice: ``worker.steps``);
- a failing step stops neither the next step nor the next tenant: its failure goes to
  ``job_failures`` (``services.jobs.run_step``), the logs and the metrics, and it is tried
  again at its next due time.

The next due time stays on the step's grid (due time + a whole number of intervals, the first
after now): a worker that was down does not run a step once per missed interval.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rewardledger import metrics
from rewardledger.config import Settings
from rewardledger.domain.jobs import describe
from rewardledger.ledger.engine import Ledger
from rewardledger.logs import get_logger
from rewardledger.services.jobs import StepFailure, run_step
from rewardledger.worker.port import STORE, Claimed, Lease
from rewardledger.worker.steps import EVERY_TENANT, Step

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Intervals that settings change: ``step`` -> seconds for every tenant, ``tenant/step``
    -> seconds for one (``REWARDLEDGER_WORKER_SCHEDULE``); lease and tick as configured."""

    overrides: Mapping[str, int] = field(default_factory=dict)
    lease_seconds: int = 300
    tick_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        return cls(
            settings.worker_schedule, settings.worker_lease_seconds, settings.worker_tick_seconds
        )

    def interval_seconds(self, step: Step, tenant_id: str) -> int:
        chosen = self.overrides.get(f"{tenant_id}/{step.name}", self.overrides.get(step.name))
        return step.interval_seconds if chosen is None else chosen

    def unknown_steps(self, known: Sequence[str]) -> list[str]:
        """The names in ``overrides`` that are no step of ``known`` (a typo to refuse)."""
        return [name for name in self.overrides if name.rpartition("/")[2] not in known]


@dataclass(frozen=True, slots=True)
class StepRun:
    """One run of a step for a tenant: its counts, or its failure."""

    tenant_id: str
    step: str
    due_at: datetime
    counts: dict[str, int] | None
    failure: StepFailure | None


def next_due(due_at: datetime, now: datetime, interval_seconds: int) -> datetime:
    """The first time after ``now`` on the grid of ``due_at`` + whole intervals."""
    interval = timedelta(seconds=interval_seconds)
    missed = max(0, (now - due_at) // interval)
    return due_at + (missed + 1) * interval


def worker_name() -> str:
    """host:pid:random, unique among the workers on one database."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs ``steps`` for ``tenant_ids`` (every tenant when None) on ``schedule``."""

    def __init__(
        self,
        ledger: Ledger,
        steps: Sequence[Step],
        schedule: Schedule,
        *,
        tenant_ids: Sequence[str] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.steps = list(steps)
        self.schedule = schedule
        self.tenant_ids = None if tenant_ids is None else list(tenant_ids)
        self.worker_id = worker_id or worker_name()
        self.stop = threading.Event()

    def run_forever(self) -> None:
        """Run what is due, then wait a tick, until ``stop`` is set."""
        log.info("worker_started", worker_id=self.worker_id, steps=[s.name for s in self.steps])
        while not self.stop.is_set():
            try:
                self.run_due()
            except Exception as error:  # the database went away: try again at the next tick
                code, message = describe(error)
                log.error("worker_pass_failed", worker_id=self.worker_id, code=code, error=message)
            self.stop.wait(self.schedule.tick_seconds)
        log.info("worker_stopped", worker_id=self.worker_id)

    def run_due(self) -> list[StepRun]:
        """One pass: every step that is due now and held by no other worker, once."""
        runs: list[StepRun] = []
        per_tenant = [s for s in self.steps if s.per_tenant]
        once = [s for s in self.steps if not s.per_tenant]
        if once and not self.stop.is_set():
            runs += self._run_scope(EVERY_TENANT, once)
        if per_tenant:
            for tenant_id in self._tenants():
                if self.stop.is_set():
                    break
                runs += self._run_scope(tenant_id, per_tenant)
        return runs

    def _tenants(self) -> list[str]:
        if self.tenant_ids is not None:
            return self.tenant_ids
        return [tenant.id for tenant in self.ledger.list_tenants()]

    def _run_scope(self, tenant_id: str, steps: Sequence[Step]) -> list[StepRun]:
        store = self.ledger.extension(STORE)
        now = self.ledger.clock()
        lease = Lease(self.worker_id, now, now + timedelta(seconds=self.schedule.lease_seconds))
        claimed = store.claim_due(tenant_id, [s.name for s in steps], lease)
        by_name = {step.name: step for step in steps}
        runs: list[StepRun] = []
        for index, claim in enumerate(claimed):
            if self.stop.is_set():  # stopping: what has not started is due for another worker
                for left in claimed[index:]:
                    store.release(tenant_id, left.step, self.worker_id)
                break
            runs.append(self._run_claimed(tenant_id, by_name[claim.step], claim))
        return runs

    def _run_claimed(self, tenant_id: str, step: Step, claim: Claimed) -> StepRun:
        context = {"worker_id": self.worker_id, "tenant_id": tenant_id, "step": step.name}
        log.info("worker_step_started", due_at=claim.due_at.isoformat(), **context)
        started = time.perf_counter()
        counts, failure = run_step(self.ledger, tenant_id, step.name, step.run)
        duration = time.perf_counter() - started
        metrics.JOB_RUNS.labels(step.name).inc()
        metrics.JOB_SECONDS.labels(step.name).observe(duration)
        if failure is not None:
            metrics.JOB_FAILURES.labels(step.name, failure.code).inc()
            log.warning(
                "worker_step_failed",
                code=failure.code,
                error=failure.message,
                attempts=failure.attempts,
                duration_seconds=round(duration, 6),
                **context,
            )
        else:
            log.info(
                "worker_step_finished",
                counts=counts,
                duration_seconds=round(duration, 6),
                **context,
            )
        interval = self.schedule.interval_seconds(step, tenant_id)
        then = next_due(claim.due_at, self.ledger.clock(), interval)
        if not self.ledger.extension(STORE).finish(tenant_id, step.name, self.worker_id, then):
            log.warning("worker_claim_lost", lease_seconds=self.schedule.lease_seconds, **context)
        return StepRun(tenant_id, step.name, claim.due_at, counts, failure)
