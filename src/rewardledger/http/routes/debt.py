"""Debt: the programme, a person's movements and the ``debt_ledger``.

A movement's idempotency key (its id) is the ``Idempotency-Key`` header or
``idempotency_key`` in the body (``id``, deprecated): 201 first, 200 with
``Idempotent-Replayed`` on a replay. The ledger list is keyset-paginated by (person, cycle);
``format=csv`` streams every matching row with the seed's columns.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from rewardledger.domain.cycles import LedgerFilter
from rewardledger.http.deps import LedgerDep, Reader, TenantAdmin, Writer
from rewardledger.http.idempotency import IdempotencyKeyHeader, key_of, mark_replay
from rewardledger.http.problems import documented
from rewardledger.http.routes.cycle_ledgers import (
    FIRST_LEDGER_PAGE,
    WRITE_PROBLEMS,
    CycleLedgerList,
    CyclePath,
    CycleQuery,
    HolderPath,
    HolderQuery,
    LedgerPagingQuery,
    list_responses,
)
from rewardledger.http.schemas_cycles import (
    DEBT_CSV_COLUMNS,
    DebtLedgerPage,
    DebtLedgerPublic,
    DebtMovementCreate,
    DebtMovementPublic,
    DebtProgramCreate,
    DebtProgramPublic,
)
from rewardledger.services import cycles, debt

router = APIRouter(tags=["debt"])

_WRITE_PROBLEMS = documented(*WRITE_PROBLEMS)

_LEDGER = CycleLedgerList(
    debt.get_program,
    cycles.list_debt_ledger,
    cycles.every_debt_row,
    cycles.get_debt_row,
    DebtLedgerPublic.of,
    DebtLedgerPage,
    DEBT_CSV_COLUMNS,
    "debt_ledger.csv",
)


@router.put("/tenants/{tid}/debt/program", responses=_WRITE_PROBLEMS)
def put_program(
    body: DebtProgramCreate, ledger: LedgerDep, principal: TenantAdmin
) -> DebtProgramPublic:
    """Set the debt programme: currency, statement closing day, due day, grace days."""
    return DebtProgramPublic.of(
        debt.set_program(
            ledger,
            principal.tenant_id,
            currency=body.currency,
            closing_day=body.closing_day,
            due_day=body.due_day,
            grace_days=body.grace_days,
        )
    )


@router.post("/tenants/{tid}/debt/movements", status_code=201, responses=_WRITE_PROBLEMS)
def create_movement(
    body: DebtMovementCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKeyHeader = None,
) -> DebtMovementPublic:
    """Record an ``opening``, ``charge``, ``repayment`` or ``discount`` of a person's debt."""
    tenant_id = principal.tenant_id
    result = debt.record(
        ledger,
        tenant_id,
        debt.DebtRequest(
            key_of(idempotency_key, {"idempotency_key": body.idempotency_key, "id": body.id}),
            body.person_id,
            body.kind,
            body.amount,
            currency=body.currency,
            cycle_tag=body.cycle_tag,
            due_at=body.due_at,
            occurred_at=body.occurred_at,
        ),
    )
    mark_replay(response, result.replayed)
    return DebtMovementPublic.of(result.movement, _LEDGER.scale(ledger, tenant_id))


@router.get(
    "/tenants/{tid}/debt/ledger",
    response_model=None,
    responses=list_responses(DebtLedgerPage),
)
def list_ledger(
    ledger: LedgerDep,
    principal: Reader,
    person: HolderQuery = None,
    cycle: CycleQuery = None,
    status: Annotated[str | None, Query(pattern="^(open|partial|repaid|overdue)$")] = None,
    paging: LedgerPagingQuery = FIRST_LEDGER_PAGE,
) -> DebtLedgerPage | StreamingResponse:
    """The ``debt_ledger`` rows, filtered; ``format=csv`` streams all of them."""
    where = LedgerFilter(person, cycle, status)
    return _LEDGER.rows(ledger, principal.tenant_id, where, paging)


@router.get("/tenants/{tid}/debt/ledger/{person}/{cycle}")
def get_row(
    person: HolderPath, cycle: CyclePath, ledger: LedgerDep, principal: Reader
) -> DebtLedgerPublic:
    """One person's debt_ledger row for one cycle."""
    return _LEDGER.row(ledger, principal.tenant_id, person, cycle)
