"""Cycle ledgers kept in step with their movements: cashback and debt, refresh, rebuild, reads.

Owns (one module per group): ``port`` (the ``CycleStore`` Protocol and ``STORE``), ``views``
(returned values), ``common`` (ids, amounts, opening accounts), ``settings`` (refresh mode),
``cashback_programme`` and ``cashback_movements`` (cap and overrides), ``debt_movements``
(statuses through the statement cycle), ``projection`` (recomputing rows, dirty marks),
``rebuild`` (refresh, rebuild, due jobs) and ``reading`` (pages and exports).
Protects (DESIGN.md, "Cycle projections"): every movement marks its (holder, cycle) dirty in
its own transaction; a full rebuild gives the same rows as any sequence of refreshes; a
changed row writes its outbox event in the same transaction.
``rewardledger.services.cashback`` and ``rewardledger.services.debt`` name the movement use
cases of each ledger.
"""

from __future__ import annotations

from rewardledger.services.cycles.common import (
    ensure_account,
    holder_id,
    movement_id,
    run_opening_accounts,
)
from rewardledger.services.cycles.port import STORE, CycleStore, Pair, Progress, store_of
from rewardledger.services.cycles.projection import (
    cashback_event_payload,
    debt_event_payload,
    refresh_cashback_pair,
    refresh_debt_pair,
    refresh_inline,
)
from rewardledger.services.cycles.reading import (
    debt_by_status,
    every_cashback_row,
    every_debt_row,
    get_cashback_row,
    get_debt_row,
    list_cashback_ledger,
    list_debt_ledger,
    parse_cursor,
)
from rewardledger.services.cycles.rebuild import (
    count_dirty,
    count_pairs,
    rebuild,
    rebuild_row_by_row,
    refresh,
    run_due,
)
from rewardledger.services.cycles.settings import refresh_mode, set_refresh_mode
from rewardledger.services.cycles.views import LedgerPage, RefreshReport

__all__ = [
    "STORE",
    "CycleStore",
    "LedgerPage",
    "Pair",
    "Progress",
    "RefreshReport",
    "cashback_event_payload",
    "count_dirty",
    "count_pairs",
    "debt_by_status",
    "debt_event_payload",
    "ensure_account",
    "every_cashback_row",
    "every_debt_row",
    "get_cashback_row",
    "get_debt_row",
    "holder_id",
    "list_cashback_ledger",
    "list_debt_ledger",
    "movement_id",
    "parse_cursor",
    "rebuild",
    "rebuild_row_by_row",
    "refresh",
    "refresh_cashback_pair",
    "refresh_debt_pair",
    "refresh_inline",
    "refresh_mode",
    "run_due",
    "run_opening_accounts",
    "set_refresh_mode",
    "store_of",
]
