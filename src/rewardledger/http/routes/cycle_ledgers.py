"""What the cashback and debt routes share: their holder and cycle parameters, the problems
their writes answer with, the ledger lists (a keyset page, or with ``format=csv`` every
matching row with the seed's columns) and rows, and the scale their amounts are shown in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from rewardledger.domain.cycles import TAG_PATTERN, CashbackRow, DebtRow, LedgerFilter
from rewardledger.domain.limits import ACCOUNT_ID_LENGTH_MAX, PAGE_SIZE_MAX
from rewardledger.http.csv_export import csv_response
from rewardledger.http.fields import id_query
from rewardledger.http.problems import documented
from rewardledger.http.schemas import ACCOUNT_ID_PATH_PATTERN, OPAQUE_CURSOR_PATTERN
from rewardledger.ledger.engine import Ledger
from rewardledger.services.cycles import LedgerPage

# A cashback account or a debtor, in a path or as a list's filter.
HolderPath = Annotated[str, Path(max_length=ACCOUNT_ID_LENGTH_MAX, pattern=ACCOUNT_ID_PATH_PATTERN)]
HolderQuery = Annotated[str | None, id_query(ACCOUNT_ID_PATH_PATTERN, ACCOUNT_ID_LENGTH_MAX)]
CyclePath = Annotated[str, Path(pattern=TAG_PATTERN, description="YYYY-MM")]
# The query parameters both cycle ledgers' lists take.
CycleQuery = Annotated[str | None, Query(pattern=TAG_PATTERN)]
LimitQuery = Annotated[int | None, Query(ge=1, le=PAGE_SIZE_MAX)]
CursorQuery = Annotated[str | None, Query(pattern=OPAQUE_CURSOR_PATTERN)]
FormatQuery = Annotated[str, Query(pattern="^(json|csv)$")]


class LedgerPaging(BaseModel):
    """Which rows of a cycle ledger's list to answer: ``limit`` rows after ``cursor``, or with
    ``format=csv`` all of them. Taken from the query as these parameters, in this order."""

    model_config = ConfigDict(frozen=True)

    limit: LimitQuery = None
    cursor: CursorQuery = None
    format: FormatQuery = "json"


LedgerPagingQuery = Annotated[LedgerPaging, Query()]
FIRST_LEDGER_PAGE = LedgerPaging()
# What a programme or movement write of either ledger can answer with.
WRITE_PROBLEMS = (
    "validation_error",
    "unauthorized",
    "forbidden",
    "not_found",
    "idempotency_conflict",
    "program_not_configured",
    "currency_mismatch",
    "busy",
)

RowT = TypeVar("RowT", CashbackRow, DebtRow)
PublicT = TypeVar("PublicT", bound=BaseModel)
PageT = TypeVar("PageT", bound=BaseModel)


class _Programme(Protocol):
    @property
    def currency(self) -> str: ...


def list_responses(page_model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A ledger list's responses: its page as JSON (or CSV), or no programme set."""
    return {
        **documented("program_not_configured"),
        200: {"model": page_model, "content": {"text/csv": {}}},
    }


@dataclass(frozen=True)
class CycleLedgerList(Generic[RowT, PublicT, PageT]):
    """What tells one cycle ledger apart: its programme, its reads (a page, every row, one
    row), its row and page models (the row model's ``of(tenant_id, row, last_updated,
    scale)``) and its CSV file."""

    program: Callable[[Ledger, str], _Programme]
    list_page: Callable[..., LedgerPage[RowT]]
    every_row: Callable[[Ledger, str, LedgerFilter], Iterable[tuple[RowT, datetime]]]
    get_row: Callable[[Ledger, str, str, str], tuple[RowT, datetime]]
    present: Callable[[str, RowT, datetime, int], PublicT]
    page_model: Callable[..., PageT]
    csv_columns: Sequence[str]
    csv_filename: str

    def scale(self, ledger: Ledger, tenant_id: str) -> int:
        """The scale of the programme's currency (``program_not_configured`` if none is set)."""
        return ledger.get_asset(tenant_id, self.program(ledger, tenant_id).currency).scale

    def row(self, ledger: Ledger, tenant_id: str, holder: str, cycle: str) -> PublicT:
        """The holder's row for ``cycle``."""
        row, at = self.get_row(ledger, tenant_id, holder, cycle)
        return self.present(tenant_id, row, at, self.scale(ledger, tenant_id))

    def rows(
        self,
        ledger: Ledger,
        tenant_id: str,
        where: LedgerFilter,
        paging: LedgerPaging,
    ) -> PageT | StreamingResponse:
        """One page of rows or, with ``format=csv``, all of them."""
        scale = self.scale(ledger, tenant_id)
        if paging.format == "csv":
            records = (
                self.present(tenant_id, row, at, scale).model_dump(mode="json")
                for row, at in self.every_row(ledger, tenant_id, where)
            )
            return csv_response(self.csv_columns, records, self.csv_filename)
        page = self.list_page(ledger, tenant_id, where, cursor=paging.cursor, limit=paging.limit)
        return self.page_model(
            rows=[self.present(tenant_id, row, at, scale) for row, at in page.rows],
            next_cursor=page.next_cursor,
        )
