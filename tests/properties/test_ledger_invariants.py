"""A hypothesis state machine drives random sequences of ledger operations, on both engines,
and checks DESIGN.md's invariants 1, 2, 3, 5, 6 and 7 after every step against a plain
Python model of what the balances must be.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import IdempotencyConflict
from rewardledger.domain.transfers import (
    Operation,
    PostPending,
    TransferRequest,
    VoidPending,
)
from rewardledger.ledger.results import TransferResult
from tests.builders import FakeClock
from tests.conftest import owner_engine

WALLETS = ("w0", "w1", "w2")  # may not go below zero
OPEN = ("funding", "clearing")  # may go below zero
ACCOUNTS = WALLETS + OPEN
amounts = st.integers(min_value=1, max_value=5_000)  # minor units of USD


def cents(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


@dataclass
class Model:
    """What the ledger must hold, computed without it."""

    posted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACCOUNTS, 0))
    held_out: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACCOUNTS, 0))
    held_in: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACCOUNTS, 0))
    holds: dict[str, tuple[str, str, int, Any]] = field(default_factory=dict)

    def available(self, account: str) -> int:
        return self.posted[account] - self.held_out[account]

    def can_debit(self, account: str, amount: int) -> bool:
        return account not in WALLETS or self.available(account) >= amount

    def apply(self, op: Operation, now: Any) -> bool:
        """Apply ``op`` if the rules accept it; return whether they did."""
        if isinstance(op, TransferRequest):
            amount = int(op.amount.replace(".", ""))
            if not self.can_debit(op.debit_account_id, amount):
                return False
            if op.pending:
                self.held_out[op.debit_account_id] += amount
                self.held_in[op.credit_account_id] += amount
                expires = None
                if op.timeout_seconds is not None:
                    from datetime import timedelta

                    expires = now + timedelta(seconds=op.timeout_seconds)
                self.holds[op.id] = (op.debit_account_id, op.credit_account_id, amount, expires)
            else:
                self.posted[op.debit_account_id] -= amount
                self.posted[op.credit_account_id] += amount
            return True
        hold = self.holds.get(op.pending_id)
        if hold is None or (hold[3] is not None and hold[3] <= now):
            return False
        debit, credit, held, _ = hold
        amount = held
        if isinstance(op, PostPending) and op.amount is not None:
            amount = int(op.amount.replace(".", ""))
            if amount > held:
                return False
        del self.holds[op.pending_id]
        self.held_out[debit] -= held
        self.held_in[credit] -= held
        if isinstance(op, PostPending):
            self.posted[debit] -= amount
            self.posted[credit] += amount
        return True

    def expire(self, now: Any) -> int:
        due = [k for k, h in self.holds.items() if h[3] is not None and h[3] <= now]
        for key in due:
            debit, credit, held, _ = self.holds.pop(key)
            self.held_out[debit] -= held
            self.held_in[credit] -= held
        return len(due)


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""

    sent = Bundle("sent")
    pendings = Bundle("pendings")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.ledger = Ledger.open(self.url, clock=self.clock, migrate=False)
        self.tenant = f"p{secrets.token_hex(6)}"
        self.model = Model()
        self.counter = 0

    def teardown(self) -> None:
        self.ledger.close()

    def next_id(self) -> str:
        self.counter += 1
        return f"op-{self.counter}"

    @initialize()
    def open_accounts(self) -> None:
        self.ledger.create_tenant(self.tenant)
        self.ledger.create_asset(self.tenant, "USD", scale=2)
        for account in ACCOUNTS:
            self.ledger.create_account(
                self.tenant, account, asset="USD", no_negative=account in WALLETS
            )

    def submit(self, ops: list[Operation], *, atomic: bool) -> list[TransferResult]:
        now = self.clock()
        results = self.ledger.submit(self.tenant, ops, atomic=atomic)
        if atomic:
            trial = Model(
                dict(self.model.posted),
                dict(self.model.held_out),
                dict(self.model.held_in),
                dict(self.model.holds),
            )
            accepted = [trial.apply(op, now) for op in ops]
            if all(accepted):
                self.model = trial
            expected = [all(accepted)] * len(ops)
        else:
            expected = [self.model.apply(op, now) for op in ops]
        assert [r.ok for r in results] == expected, [r.error for r in results]
        return results

    @rule(
        target=sent,
        debit=st.sampled_from(ACCOUNTS),
        credit=st.sampled_from(ACCOUNTS),
        amount=amounts,
        pending=st.booleans(),
        timeout=st.none() | st.integers(min_value=1, max_value=600),
    )
    def transfer(
        self, debit: str, credit: str, amount: int, pending: bool, timeout: int | None
    ) -> Operation:
        if debit == credit:
            credit = ACCOUNTS[(ACCOUNTS.index(debit) + 1) % len(ACCOUNTS)]
        op = TransferRequest(
            self.next_id(),
            debit,
            credit,
            "USD",
            cents(amount),
            pending=pending,
            timeout_seconds=timeout if pending else None,
        )
        self.submit([op], atomic=True)
        return op

    @rule(
        legs=st.lists(
            st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), amounts),
            min_size=1,
            max_size=6,
        ),
        atomic=st.booleans(),
    )
    def batch(self, legs: list[tuple[str, str, int]], atomic: bool) -> None:
        ops: list[Operation] = [
            TransferRequest(self.next_id(), d, c, "USD", cents(a)) for d, c, a in legs if d != c
        ]
        if ops:
            self.submit(ops, atomic=atomic)

    @rule(
        debit=st.sampled_from(ACCOUNTS),
        credit=st.sampled_from(ACCOUNTS),
        amount=amounts,
        settle=st.sampled_from(["post", "post_part", "void", "twice"]),
        atomic=st.booleans(),
    )
    def batch_holds_and_resolves_in_one_call(
        self, debit: str, credit: str, amount: int, settle: str, atomic: bool
    ) -> None:
        if debit == credit:
            credit = ACCOUNTS[(ACCOUNTS.index(debit) + 1) % len(ACCOUNTS)]
        hold = TransferRequest(self.next_id(), debit, credit, "USD", cents(amount), pending=True)
        ops: list[Operation] = [hold]
        if settle == "void":
            ops.append(VoidPending(hold.id, self.next_id()))
        else:
            part = cents(max(1, amount // 2)) if settle == "post_part" else None
            ops.append(PostPending(hold.id, self.next_id(), part))
        if settle == "twice":  # the second resolution must be refused
            ops.append(VoidPending(hold.id, self.next_id()))
        self.submit(ops, atomic=atomic)

    @rule(target=pendings, source=sent)
    def remember_pending(self, source: Operation) -> str:
        assert isinstance(source, TransferRequest)
        return source.id

    @rule(pending_id=consumes(pendings), part=st.none() | amounts)
    def post(self, pending_id: str, part: int | None) -> None:
        self.submit(
            [PostPending(pending_id, self.next_id(), None if part is None else cents(part))],
            atomic=True,
        )

    @rule(pending_id=consumes(pendings))
    def void(self, pending_id: str) -> None:
        self.submit([VoidPending(pending_id, self.next_id())], atomic=True)

    @rule(seconds=st.integers(min_value=1, max_value=900))
    def time_passes_and_due_holds_expire(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)
        expected = self.model.expire(self.clock())
        assert self.ledger.expire_due(self.tenant) == expected

    @rule(op=sent)
    def replay_changes_nothing(self, op: Operation) -> None:
        before = self.snapshot()
        [result] = self.ledger.submit(self.tenant, [op])
        assert result.replayed
        assert self.snapshot() == before

    @rule(op=sent, extra=amounts)
    def reusing_an_id_for_another_request_is_a_conflict(self, op: Operation, extra: int) -> None:
        assert isinstance(op, TransferRequest)
        changed = TransferRequest(
            op.id,
            op.debit_account_id,
            op.credit_account_id,
            "USD",
            cents(int(op.amount.replace(".", "")) + extra),
        )
        before = self.snapshot()
        with pytest.raises(IdempotencyConflict):
            self.ledger.transfer(self.tenant, changed)
        assert self.snapshot() == before

    @precondition(lambda self: self.counter > 0)  # the journal has rows for the trigger to guard
    @rule()
    def plain_sql_cannot_rewrite_the_journal(self) -> None:
        engine = owner_engine(self.ledger)
        for statement in ("UPDATE transfers SET amount_minor = 1", "DELETE FROM transfers"):
            with pytest.raises(DBAPIError), engine.begin() as connection:
                connection.execute(text(f"{statement} WHERE tenant_id = :t"), {"t": self.tenant})

    def snapshot(self) -> dict[str, tuple[int, int, int]]:
        out = {}
        for account in ACCOUNTS:
            b = self.ledger.get_account(self.tenant, account).balances
            out[account] = (b.posted, b.debits_pending, b.credits_pending)
        return out

    @invariant()
    def balances_match_the_model_and_sum_to_zero(self) -> None:
        snapshot = self.snapshot()
        assert sum(posted for posted, _, _ in snapshot.values()) == 0  # invariant 1
        assert sum(c - d for _, d, c in snapshot.values()) == 0
        for account, (posted, held_out, held_in) in snapshot.items():
            assert (posted, held_out, held_in) == (
                self.model.posted[account],
                self.model.held_out[account],
                self.model.held_in[account],
            ), account
            if account in WALLETS:  # invariant 3
                assert posted - held_out >= 0

    @invariant()
    def materialized_data_agrees_with_the_journal(self) -> None:
        report = self.ledger.verify(self.tenant)  # invariants 1, 2 and 5
        assert report.ok, report.discrepancies


def test_random_operations_keep_every_invariant(db_url: str) -> None:
    with Ledger.open(db_url):  # migrate once before the machine opens many ledgers
        pass
    LedgerMachine.url = db_url
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
