"""An account's history as ``Ledger.history`` answers it: its cursor and its entries' changes.

A history cursor is the journal sequence number of the last entry of the previous page, as
decimal digits (``next_cursor``); each entry shows what it changed on the account's posted and
pending balances, a post releasing what its pending transfer held.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import BIGINT_MAX, CURSOR_DIGITS_MAX
from rewardledger.domain.money import Amount
from rewardledger.domain.transfers import JournalEntry, Phase, Transfer
from rewardledger.ledger.results import HistoryEntry


def history_cursor(cursor: str | None) -> int | None:
    """The sequence number a page starts before; ``validation_error`` for anything else."""
    if cursor is None:
        return None
    if (
        not isinstance(cursor, str)
        or not 1 <= len(cursor) <= CURSOR_DIGITS_MAX
        or not cursor.isascii()
        or not cursor.isdigit()
        or int(cursor) > BIGINT_MAX
    ):
        raise ValidationError(
            "cursor is not valid; pass the next_cursor of the previous page.", field="cursor"
        )
    return int(cursor)


def history_entries(
    rows: Sequence[JournalEntry], scale: int, held: Mapping[str, int]
) -> list[HistoryEntry]:
    """The entries of one page; ``held`` is what each posted pending transfer held."""
    return [
        HistoryEntry(
            seq=row.seq,
            transfer=row.transfer,
            side=row.side,
            posted_change=Amount(_posted_change(row.transfer, row.side), scale),
            pending_change=Amount(_pending_change(row.transfer, row.side, held), scale),
            balance_after=Amount(row.balance_after_minor, scale),
        )
        for row in rows
    ]


def _posted_change(transfer: Transfer, side: str) -> int:
    if transfer.phase in (Phase.SINGLE, Phase.POST):
        return transfer.amount_minor if side == "credit" else -transfer.amount_minor
    return 0


def _pending_change(transfer: Transfer, side: str, held: Mapping[str, int]) -> int:
    sign = 1 if side == "credit" else -1
    if transfer.phase is Phase.PENDING:
        return sign * transfer.amount_minor
    if transfer.phase in (Phase.VOID, Phase.EXPIRE):
        return -sign * transfer.amount_minor
    if transfer.phase is Phase.POST:
        assert transfer.pending_id is not None
        return -sign * held[transfer.pending_id]
    return 0
