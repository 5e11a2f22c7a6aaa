"""What a migration reads from the old system: the ``LegacySource`` Protocol.

Owns: the port the migration services read the seeds' tables through. The implementation
(``storage.legacy_seeds.PostgresLegacySource``) streams rows with server-side cursors, so a
migration holds at most one batch of source rows at a time, whatever the table's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

Row = dict[str, Any]


class LegacySource(Protocol):
    """The seeds' tables in an existing database, read-only, in batches."""

    def has(self, logical: str) -> bool:
        """Whether the source has the table (the debt tables are optional)."""
        ...

    def count(self, logical: str) -> int:
        """Rows in the table the seeds call ``logical`` (the progress bar's total)."""
        ...

    def count_users_without_balance(self) -> int:
        """How many users ``users_without_balance`` gives."""
        ...

    def accumulations(self, batch_size: int) -> Iterator[list[Row]]:
        """``fact_accumulations`` in batches, by date then key (spends after their earns)."""
        ...

    def balances(self, batch_size: int) -> Iterator[list[Row]]:
        """``fact_balance_points`` (user_id, balance) in batches, by user."""
        ...

    def users_without_balance(self, batch_size: int) -> Iterator[list[Row]]:
        """The users with ``fact_accumulations`` rows but no ``fact_balance_points`` row."""
        ...

    def debt_movements(self, batch_size: int) -> Iterator[list[Row]]:
        """``debt_movements`` in batches, by ``created_at`` then key."""
        ...

    def debt_ledger(self, batch_size: int) -> Iterator[list[Row]]:
        """``debt_ledger`` (person_id, cycle_tag, net_debt) in batches."""
        ...

    def cashback_movements(self, batch_size: int) -> Iterator[list[Row]]:
        """``cashback_movements`` in batches, by ``created_at`` then key."""
        ...

    def cashback_ledger(self, batch_size: int) -> Iterator[list[Row]]:
        """``cashback_ledger`` (account_id, cycle_tag, total_cashback) in batches."""
        ...

    def budgets(self, batch_size: int) -> Iterator[list[Row]]:
        """``budgets`` (id, currency, balance, hard_cap, soft_cap, period) in batches, by id."""
        ...

    def budget_entries(self, batch_size: int) -> Iterator[list[Row]]:
        """``ledger_entries`` in batches, by ``created_at`` then key."""
        ...
