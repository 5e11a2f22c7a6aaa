"""A rebuild batch of cycle pairs, planned in the domain for storage to compute in one statement.

Owns: what a set-based rebuild batch needs beside its movements, per (holder, cycle) pair: the
row's id (``row_id``), and the rules of ``cashback_row`` and ``debt_row`` that depend on the
tenant's time zone (when a cashback cycle closes, when a statement is due and overdue), which
no SQL engine computes the way ``zoneinfo`` does. Protects: a set-based batch gives the rows
that ``cashback_row`` / ``debt_row`` give for the same movements (``tests/services/
test_cycles_rebuild_sets.py`` compares them), because every zone-dependent value of its rows
comes from the same functions. Columns, not a value per pair: a batch binds them as arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rewardledger.domain.cycles import (
    CashbackProgram,
    DebtProgram,
    LedgerName,
    cashback_cycle_closes_at,
    row_id,
    statement_due_at,
)


@dataclass(frozen=True, slots=True)
class CashbackBatch:
    """The next pairs of a cashback rebuild, in key order, with what their rows need."""

    program: CashbackProgram
    scale: int
    now: datetime
    account_ids: list[str]
    cycle_tags: list[str]
    row_ids: list[str]
    closed: list[bool]  # the cycle is past its month's end plus grace at ``now``


@dataclass(frozen=True, slots=True)
class DebtBatch:
    """The next pairs of a debt rebuild, in key order. ``carried``: the (person, net debt) of
    the pair just before the batch, which the batch's first cycles of that person carry on."""

    program: DebtProgram
    scale: int
    now: datetime
    person_ids: list[str]
    cycle_tags: list[str]
    row_ids: list[str]
    statement_due_at: list[datetime]  # a cycle's due date when its movements name none
    statement_overdue_at: list[datetime]  # ... and when it is overdue (its grace after that)
    carried: tuple[str, int] | None


def plan_cashback_batch(
    tenant_id: str,
    pairs: Sequence[tuple[str, str]],
    program: CashbackProgram,
    zone: ZoneInfo,
    now: datetime,
    scale: int,
) -> CashbackBatch:
    closed = {
        tag: now >= cashback_cycle_closes_at(tag, zone, program.grace_days)
        for tag in {tag for _, tag in pairs}
    }
    return CashbackBatch(
        program,
        scale,
        now,
        [account for account, _ in pairs],
        [tag for _, tag in pairs],
        [row_id(LedgerName.CASHBACK, tenant_id, account, tag) for account, tag in pairs],
        [closed[tag] for _, tag in pairs],
    )


def plan_debt_batch(
    tenant_id: str,
    pairs: Sequence[tuple[str, str]],
    program: DebtProgram,
    zone: ZoneInfo,
    now: datetime,
    scale: int,
    carried: tuple[str, int] | None,
) -> DebtBatch:
    due = {tag: statement_due_at(tag, zone, program.due_day) for tag in {tag for _, tag in pairs}}
    grace = timedelta(days=program.grace_days)  # added as ``debt_row`` adds it: local days
    return DebtBatch(
        program,
        scale,
        now,
        [person for person, _ in pairs],
        [tag for _, tag in pairs],
        [row_id(LedgerName.DEBT, tenant_id, person, tag) for person, tag in pairs],
        [due[tag] for _, tag in pairs],
        [due[tag] + grace for _, tag in pairs],
        carried,
    )
