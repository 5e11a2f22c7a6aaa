"""A hypothesis state machine drives random sequences of budget operations (top-ups,
reserves, charges, releases, expiries, period resets and rollovers) on both engines, against
a model; after every step the hard cap holds in every period (invariant 4), every figure is the
model's, and reconciliation against the journal is clean."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rewardledger.bootstrap import Ledger
from rewardledger.domain.budgets import BudgetPeriod, period_key
from rewardledger.domain.errors import HardCapExceeded, InsufficientFunds, NotPending
from rewardledger.domain.money import format_minor
from rewardledger.services import budgets
from rewardledger.services.jobs import run_due_jobs
from tests.builders import FakeClock

ZONE = "Africa/Harare"
HARD_CAP = 10_000
HOUR = timedelta(hours=1)


def cents(minor: int) -> str:
    return format_minor(minor, 2)


@dataclass
class Period:
    funds: int = 0  # funded + rolled in - rolled out
    charged: int = 0
    open: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)

    @property
    def reserved(self) -> int:
        return sum(amount for amount, _ in self.open.values())

    @property
    def used(self) -> int:
        return self.charged + self.reserved

    @property
    def available(self) -> int:
        return self.funds - self.used


class BudgetMachine(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 3, 30, 12, 30, tzinfo=UTC))
        self.ledger = Ledger.open(self.url, clock=self.clock, migrate=False)
        self.tenant = f"q{secrets.token_hex(6)}"
        self.periods: dict[str, Period] = {}
        self.rollover = False
        self.counter = 0

    def teardown(self) -> None:
        self.ledger.close()

    def next_ref(self) -> str:
        self.counter += 1
        return f"r{self.counter}"

    def key(self) -> str:
        return period_key(BudgetPeriod.MONTHLY, self.clock(), ZoneInfo(ZONE))

    def sweep(self, into: str) -> None:
        for name, period in self.periods.items():
            if name != into and period.available > 0:
                moved = period.available
                period.funds -= moved
                self.periods[into].funds += moved

    def current(self) -> Period:
        """The model's current period, opened (with its rollover) as the service opens it."""
        key = self.key()
        if key not in self.periods:
            self.periods[key] = Period()
            if self.rollover:
                self.sweep(key)
        return self.periods[key]

    def expired(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at <= self.clock()

    @initialize(rollover=st.booleans())
    def create(self, rollover: bool) -> None:
        self.rollover = rollover
        self.ledger.create_tenant(self.tenant, timezone=ZONE)
        budgets.create_budget(
            self.ledger,
            self.tenant,
            "b",
            currency="USD",
            hard_cap=cents(HARD_CAP),
            soft_cap=cents(HARD_CAP // 2),
            rollover=rollover,
        )

    @rule(amount=st.integers(1, 8_000))
    def topup(self, amount: int) -> None:
        budgets.topup(
            self.ledger,
            self.tenant,
            "b",
            amount=cents(amount),
            currency="USD",
            idempotency_key=self.next_ref(),
        )
        self.current().funds += amount

    @rule(amount=st.integers(1, 6_000), timeout_hours=st.none() | st.integers(1, 100))
    def reserve(self, amount: int, timeout_hours: int | None) -> None:
        self._reserve(amount, timeout_hours)

    @rule(to_funds=st.booleans(), delta=st.integers(-1, 1))
    def reserve_at_a_boundary(self, to_funds: bool, delta: int) -> None:
        """Reserve exactly up to the hard cap or the funds, or one cent either side."""
        # Looking at the current period opens it in the model (with its rollover); a refused
        # reserve must not, so the model is put back and ``_reserve`` opens it itself.
        before = copy.deepcopy(self.periods)
        period = self.current()
        edge = period.available if to_funds else HARD_CAP - period.used
        self.periods = before
        if edge + delta > 0:
            self._reserve(edge + delta, None)

    def _reserve(self, amount: int, timeout_hours: int | None) -> None:
        ref = self.next_ref()
        # A refused reserve changes nothing: not even the opening (and rollover) of a period.
        before = copy.deepcopy(self.periods)
        period = self.current()
        timeout = None if timeout_hours is None else timeout_hours * 3600 - 1800
        try:
            budgets.reserve(
                self.ledger,
                self.tenant,
                "b",
                reference=ref,
                amount=cents(amount),
                currency="USD",
                timeout_seconds=timeout,
            )
        except HardCapExceeded:
            assert period.used + amount > HARD_CAP
            self.periods = before
            return
        except InsufficientFunds:
            assert period.used + amount <= HARD_CAP
            assert amount > period.available
            self.periods = before
            return
        assert period.used + amount <= HARD_CAP
        assert amount <= period.available
        expires = None if timeout is None else self.clock() + timedelta(seconds=timeout)
        period.open[ref] = (amount, expires)

    def _pick(self, data: st.DataObject) -> tuple[str, Period, int, datetime | None] | None:
        choices = sorted((ref, name) for name, p in self.periods.items() for ref in p.open)
        if not choices:
            return None
        ref, name = data.draw(st.sampled_from(choices))
        amount, expires = self.periods[name].open[ref]
        return ref, self.periods[name], amount, expires

    @rule(data=st.data(), part=st.integers(1, 100))
    def charge(self, data: st.DataObject, part: int) -> None:
        picked = self._pick(data)
        if picked is None:
            return
        ref, period, amount, expires = picked
        charged = max(1, amount * part // 100)
        try:
            budgets.charge(self.ledger, self.tenant, "b", ref, amount=cents(charged))
        except NotPending:
            assert self.expired(expires)
            return
        assert not self.expired(expires)
        del period.open[ref]
        period.charged += charged

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        picked = self._pick(data)
        if picked is None:
            return
        ref, period, _, expires = picked
        try:
            budgets.release(self.ledger, self.tenant, "b", ref)
        except NotPending:
            assert self.expired(expires)
            return
        assert not self.expired(expires)
        del period.open[ref]

    @rule(hours=st.integers(1, 400), run_jobs=st.booleans())
    def advance(self, hours: int, run_jobs: bool) -> None:
        """Time passes (across month ends, in Harare's zone); a due-jobs run may follow,
        expiring reservations, opening the new period and rolling funds over."""
        self.clock.advance(hours=hours)
        if not run_jobs:
            return
        report = run_due_jobs(self.ledger, self.tenant)
        expired = 0
        for period in self.periods.values():
            for ref, (_, expires) in list(period.open.items()):
                if self.expired(expires):
                    del period.open[ref]
                    expired += 1
        assert report.steps["holds"]["holds_expired"] == expired
        self.current()
        if self.rollover:
            self.sweep(self.key())

    @invariant()
    def figures_match_the_model_and_the_journal(self) -> None:
        if not self.periods:
            return
        for name, period in self.periods.items():
            u = budgets.utilization(self.ledger, self.tenant, "b", period=name)
            assert (u.used, u.reserved, u.charged, u.available) == (
                cents(period.used),
                cents(period.reserved),
                cents(period.charged),
                cents(period.available),
            ), name
            assert period.used <= HARD_CAP
        reconciliation = budgets.reconcile(self.ledger, self.tenant, "b")
        assert reconciliation.clean, reconciliation.discrepancies


def test_random_budget_operations_keep_used_within_the_hard_cap_and_reconcile(
    db_url: str,
) -> None:
    with Ledger.open(db_url):  # migrate once before the machine opens many ledgers
        pass
    BudgetMachine.url = db_url
    run_state_machine_as_test(
        BudgetMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
