"""Pages of the lists added for issue 13: accounts, transfers, a budget's reservations and its
corrections. Each is its rows and ``next_cursor`` (null on the last page), passed back as
``cursor`` for the next page, as on every list (``domain.paging``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rewardledger.http.schemas import AccountPublic, TransferPublic
from rewardledger.http.schemas_budgets import CorrectionPublic, ReservationPublic

NEXT_CURSOR = "Pass as ``cursor`` for the next page; null on the last page."


class AccountPagePublic(BaseModel):
    accounts: list[AccountPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR, examples=["WyJ3YWxsZXQ6NyJd"])


class TransferPagePublic(BaseModel):
    transfers: list[TransferPublic]
    next_cursor: str | None = Field(
        description=NEXT_CURSOR, examples=["WzE3NjQ2NTM0MDAwMDAwMDAsIm9yZGVyLTc3MzEiXQ"]
    )


class ReservationPagePublic(BaseModel):
    budget_id: str
    reservations: list[ReservationPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR, examples=["WyJpc3N1ZS00MiJd"])


class CorrectionPagePublic(BaseModel):
    budget_id: str
    corrections: list[CorrectionPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
