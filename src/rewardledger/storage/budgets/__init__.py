"""``SqlBudgetStore``: the tables of campaign budgets, through SQLAlchemy 2 Core.

Owns: every statement on the budget tables (``tables``, and ``lists``: pages of reservations
and corrections), and the budget-side reads of the core's accounts and journal (``journal``: a
period account's totals, a reservation's resolution, totals by entry type); ``rows`` maps rows
to the domain's records. In-transaction statements run on a unit of work's connection
(``StorageUnit``), so they commit or roll back with the journal. Protects invariant 4 with
``lock_budget``: every write to a budget first locks its row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes writers). Every statement filters
by ``tenant_id``.
"""

from __future__ import annotations

from rewardledger.storage.budgets.journal import JournalReads
from rewardledger.storage.budgets.lists import BudgetLists
from rewardledger.storage.budgets.locked import LockedStatements
from rewardledger.storage.budgets.tables import BudgetTables
from rewardledger.storage.tenancy import scoped_by_tenant

__all__ = ["SqlBudgetStore"]


@scoped_by_tenant
class SqlBudgetStore(BudgetTables, BudgetLists, JournalReads, LockedStatements):
    """Implements ``rewardledger.services.budgets.BudgetStore``."""
