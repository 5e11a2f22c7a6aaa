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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from rewardledger.domain.cycles import (
    CashbackProgram,
    DebtProgram,
    LedgerName,
    cashback_cycle_closes_at,
    row_id,
    statement_due_at,
)

T = TypeVar("T")


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
    closes_at = partial(cashback_cycle_closes_at, zone=zone, grace_days=program.grace_days)
    return CashbackBatch(
        program,
        scale,
        now,
        *_key_columns(LedgerName.CASHBACK, tenant_id, pairs),
        [now >= closes for closes in _per_cycle(pairs, closes_at)],
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
    due = _per_cycle(pairs, partial(statement_due_at, zone=zone, due_day=program.due_day))
    grace = timedelta(days=program.grace_days)  # added as ``debt_row`` adds it: local days
    return DebtBatch(
        program,
        scale,
        now,
        *_key_columns(LedgerName.DEBT, tenant_id, pairs),
        due,
        [due_at + grace for due_at in due],
        carried,
    )


def _key_columns(
    ledger: LedgerName, tenant_id: str, pairs: Sequence[tuple[str, str]]
) -> tuple[list[str], list[str], list[str]]:
    """A batch's holder ids, cycle tags and row ids, in the order of ``pairs``."""
    return (
        [holder for holder, _ in pairs],
        [tag for _, tag in pairs],
        [row_id(ledger, tenant_id, holder, tag) for holder, tag in pairs],
    )


def _per_cycle(pairs: Sequence[tuple[str, str]], rule: Callable[[str], T]) -> list[T]:
    """``rule`` of each pair's cycle tag, computed once per distinct tag."""
    by_tag = {tag: rule(tag) for tag in {tag for _, tag in pairs}}
    return [by_tag[tag] for _, tag in pairs]
