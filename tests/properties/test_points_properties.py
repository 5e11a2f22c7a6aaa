"""A hypothesis state machine over the points service (issue 4), on both engines: random earn,
spend, redeem, confirm, cancel, activate, cancel-pending and due-jobs runs with a moving clock.

After every step: each holder's balance equals the sum of its rows and the sum of its lots'
remainders (``validate`` is empty), matches a plain model, and is below zero only after a
spend whose reason allowed it.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import (
    AlreadyRedeemed,
    InsufficientPoints,
    InvalidRedemptionState,
    PointsNotPending,
)
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason
from rewardledger.services import jobs, points, redemptions
from tests.builders import FakeClock

HOLDERS = ("h0", "h1")
amounts = st.integers(min_value=1, max_value=60)
holders = st.sampled_from(HOLDERS)


@dataclass
class Model:
    negative_used: set[str] = field(default_factory=set)


class PointsMachine(RuleBasedStateMachine):
    url = ""
    pending = Bundle("pending")
    redeemed = Bundle("redeemed")

    @initialize()
    def open(self) -> None:
        self.clock = FakeClock()
        self.ledger = Ledger.open(self.url, clock=self.clock, migrate=False)
        self.tenant = f"p{secrets.token_hex(6)}"
        self.ledger.create_tenant(self.tenant)
        points.configure(
            self.ledger,
            self.tenant,
            "LUMIS",
            expiry=ExpiryPolicy(ExpiryKind.AFTER, days=10),
            reasons=[
                Reason(Direction.SPEND, "clawback", allow_negative=True),
                Reason(Direction.EARN, "purchase", pending_until_activated=True),
                Reason(Direction.EARN, "window", pending_seconds=3 * 86400),
                Reason(Direction.EARN, "promo", expiry=ExpiryPolicy(ExpiryKind.AFTER, days=2)),
            ],
        )
        self.model = Model()
        self.count = 0

    def teardown(self) -> None:
        if hasattr(self, "ledger"):
            self.ledger.close()

    def _ref(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    @rule(holder=holders, amount=amounts, dtype=st.sampled_from(["invoice", "promo"]))
    def earn(self, holder: str, amount: int, dtype: str) -> None:
        points.earn(
            self.ledger, self.tenant, holder, str(amount), dtype=dtype, reference=self._ref("e")
        )

    @rule(
        target=pending,
        holder=holders,
        amount=amounts,
        dtype=st.sampled_from(["purchase", "window"]),
    )
    def earn_pending(self, holder: str, amount: int, dtype: str) -> str:
        reference = self._ref("p")
        points.earn(self.ledger, self.tenant, holder, str(amount), dtype=dtype, reference=reference)
        return reference

    @rule(reference=consumes(pending), activate=st.booleans())
    def resolve_pending(self, reference: str, activate: bool) -> None:
        resolve = points.activate if activate else points.cancel_pending
        # "window" points may have been activated by the due jobs already.
        with contextlib.suppress(PointsNotPending):
            resolve(self.ledger, self.tenant, reference)

    @rule(holder=holders, amount=amounts)
    def spend(self, holder: str, amount: int) -> None:
        with contextlib.suppress(InsufficientPoints):
            points.spend(
                self.ledger, self.tenant, holder, str(amount), dtype="ocr", reference=self._ref("s")
            )

    @rule(holder=holders, amount=amounts)
    def clawback(self, holder: str, amount: int) -> None:
        moved = points.spend(
            self.ledger,
            self.tenant,
            holder,
            str(amount),
            dtype="clawback",
            reference=self._ref("c"),
        )
        if moved.negative_allowed:
            self.model.negative_used.add(holder)

    @rule(target=redeemed, holder=holders, amount=amounts, ttl=st.sampled_from([3600, 86400 * 4]))
    def redeem(self, holder: str, amount: int, ttl: int) -> str:
        reference = self._ref("r")
        try:
            redemptions.create(
                self.ledger,
                self.tenant,
                holder,
                offer_id="o",
                cost=str(amount),
                reference=reference,
                ttl_seconds=ttl,
            )
        except InsufficientPoints:
            return "none"
        return reference

    @rule(reference=redeemed, confirm=st.booleans())
    def end_redemption(self, reference: str, confirm: bool) -> None:
        if reference == "none":
            return
        before = redemptions.get(self.ledger, self.tenant, reference)
        try:
            if confirm:
                redemptions.confirm(self.ledger, self.tenant, before.code, actor="till")
            else:
                redemptions.cancel(self.ledger, self.tenant, reference, actor="ops")
        except (AlreadyRedeemed, InvalidRedemptionState):
            pass
        after = redemptions.get(self.ledger, self.tenant, reference)
        if before.state.value != "pending":
            assert after == before  # an ended redemption never changes again
        if after.state.value in ("cancelled", "expired"):
            assert after.refunded.minor + after.forfeited.minor == after.cost.minor

    @rule(hours=st.integers(min_value=1, max_value=24 * 4))
    def time_passes_and_jobs_run(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        jobs.run_due_jobs(self.ledger, self.tenant)
        # Everything due is done: a second run does nothing.
        again = jobs.run_due_jobs(self.ledger, self.tenant).steps["points"]
        assert again == {"points_activated": 0, "lots_expired": 0, "redemptions_expired": 0}

    @invariant()
    def balances_equal_rows_and_lots(self) -> None:
        if not hasattr(self, "ledger"):
            return
        assert points.validate(self.ledger, self.tenant) == []
        for line in points.summary(self.ledger, self.tenant):
            assert line.balance == line.ledger_balance == line.lots_balance
            if line.balance.minor < 0:
                assert line.user_id in self.model.negative_used


def test_random_points_operations_keep_balance_equal_to_rows_and_lots(db_url: str) -> None:
    with Ledger.open(db_url):  # migrate once before the machine opens many ledgers
        pass
    PointsMachine.url = db_url
    run_state_machine_as_test(
        PointsMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
