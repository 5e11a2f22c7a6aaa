"""Pages of the lists added for issue 13: accounts, transfers, a budget's reservations and its
corrections. Each is its rows and ``next_cursor`` (null on the last page), passed back as
``cursor`` for the next page, as on every list (``domain.paging``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rewardledger.http.examples import budgets, core, example
from rewardledger.http.fields import NEXT_CURSOR
from rewardledger.http.public import ViewPublic
from rewardledger.http.schemas import AccountPublic, TransferPublic
from rewardledger.http.schemas_budgets import CorrectionPublic, ReservationPublic


class AccountPagePublic(BaseModel, json_schema_extra=example(core.ACCOUNT_PAGE)):
    accounts: list[AccountPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class TransferPagePublic(BaseModel, json_schema_extra=example(core.TRANSFER_PAGE)):
    transfers: list[TransferPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class ReservationPagePublic(ViewPublic, json_schema_extra=example(budgets.RESERVATION_PAGE)):
    budget_id: str
    reservations: list[ReservationPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class CorrectionPagePublic(ViewPublic, json_schema_extra=example(budgets.CORRECTION_PAGE)):
    budget_id: str
    corrections: list[CorrectionPublic]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
