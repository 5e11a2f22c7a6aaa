"""Cashback: the programme, account settings, movements and the ``cashback_ledger``.

An accrual's idempotency key (its id) is the ``Idempotency-Key`` header or ``idempotency_key``
in the body (``id``, deprecated): the first write is 201, a replay 200 with
``Idempotent-Replayed: true`` (``http.idempotency``). A reversal's id is derived from the
accrual it reverses, so it takes no key.
The ledger list is keyset-paginated by (account, cycle); ``format=csv`` streams every matching
row with the seed's columns.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from rewardledger.domain.cycles import LedgerFilter
from rewardledger.domain.errors import ValidationError
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
    CASHBACK_CSV_COLUMNS,
    ApplyToDebtCreate,
    CashbackAccountCreate,
    CashbackAccountPublic,
    CashbackLedgerPage,
    CashbackLedgerPublic,
    CashbackMovementCreate,
    CashbackMovementPublic,
    CashbackProgramCreate,
    CashbackProgramPublic,
    DebtMovementPublic,
)
from rewardledger.services import cashback, cycles

router = APIRouter(tags=["cashback"])

_WRITE_PROBLEMS = documented(*WRITE_PROBLEMS, "insufficient_funds")

_LEDGER = CycleLedgerList(
    cashback.get_program,
    cycles.list_cashback_ledger,
    cycles.every_cashback_row,
    cycles.get_cashback_row,
    CashbackLedgerPublic.of,
    CashbackLedgerPage,
    CASHBACK_CSV_COLUMNS,
    "cashback_ledger.csv",
)


@router.put("/tenants/{tid}/cashback/program", responses=_WRITE_PROBLEMS)
def put_program(
    body: CashbackProgramCreate, ledger: LedgerDep, principal: TenantAdmin
) -> CashbackProgramPublic:
    """Set the cashback programme: currency, minimum spend per cycle, default cap, grace."""
    program = cashback.set_program(
        ledger,
        principal.tenant_id,
        currency=body.currency,
        minimum_spend=body.minimum_spend,
        default_cap=body.default_cap,
        grace_days=body.grace_days,
    )
    return CashbackProgramPublic.of(program, _LEDGER.scale(ledger, principal.tenant_id))


@router.put("/tenants/{tid}/cashback/accounts/{account}", responses=_WRITE_PROBLEMS)
def put_account(
    account: HolderPath, body: CashbackAccountCreate, ledger: LedgerDep, principal: TenantAdmin
) -> CashbackAccountPublic:
    """Set an account's default cap (null: the programme's) and whether it is enrolled."""
    settings = cashback.set_account(
        ledger, principal.tenant_id, account, default_cap=body.default_cap, enrolled=body.enrolled
    )
    return CashbackAccountPublic.of(settings, _LEDGER.scale(ledger, principal.tenant_id))


@router.post("/tenants/{tid}/cashback/movements", status_code=201, responses=_WRITE_PROBLEMS)
def create_movement(
    body: CashbackMovementCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CashbackMovementPublic:
    """Record an accrual (credited up to the cycle's cap unless ``override``) or a reversal."""
    tenant_id = principal.tenant_id
    sent = {"idempotency_key": body.idempotency_key, "id": body.id}
    if body.kind == "reversal":
        if key_of(idempotency_key, sent, required=False):
            raise ValidationError(
                "A reversal's id is derived from the accrual it reverses (reverses_id); send "
                "it without an idempotency key: sending it again is already safe.",
                field="idempotency_key",
            )
        if body.reverses_id is None:
            raise ValidationError("A reversal names the accrual it reverses.", field="reverses_id")
        result = cashback.reverse(
            ledger, tenant_id, cashback.Reversal(body.reverses_id, body.occurred_at)
        )
    else:
        key = key_of(idempotency_key, sent)
        missing = [
            name for name in ("account_id", "spend", "cashback") if getattr(body, name) is None
        ]
        if missing:
            raise ValidationError(f"An accrual needs {', '.join(missing)}.", field=missing[0])
        assert body.account_id is not None
        assert body.spend is not None
        assert body.cashback is not None
        result = cashback.accrue(
            ledger,
            tenant_id,
            cashback.Accrual(
                key,
                body.account_id,
                body.spend,
                body.cashback,
                currency=body.currency,
                occurred_at=body.occurred_at,
                cycle_tag=body.cycle_tag,
                budget_cap=body.budget_cap,
                override=body.override,
            ),
        )
    mark_replay(response, result.replayed)
    return CashbackMovementPublic.of(result.movement, _LEDGER.scale(ledger, tenant_id))


@router.get(
    "/tenants/{tid}/cashback/ledger",
    response_model=None,
    responses=list_responses(CashbackLedgerPage),
)
def list_ledger(
    ledger: LedgerDep,
    principal: Reader,
    account: HolderQuery = None,
    cycle: CycleQuery = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    eligibility: Annotated[
        str | None, Query(pattern="^(eligible|not_eligible|reached_cap|pending)$")
    ] = None,
    paging: LedgerPagingQuery = FIRST_LEDGER_PAGE,
) -> CashbackLedgerPage | StreamingResponse:
    """The ``cashback_ledger`` rows, filtered; ``format=csv`` streams all of them."""
    where = LedgerFilter(account, cycle, status, eligibility)
    return _LEDGER.rows(ledger, principal.tenant_id, where, paging)


@router.get("/tenants/{tid}/cashback/ledger/{account}/{cycle}")
def get_row(
    account: HolderPath, cycle: CyclePath, ledger: LedgerDep, principal: Reader
) -> CashbackLedgerPublic:
    """One account's cashback_ledger row for one cycle."""
    return _LEDGER.row(ledger, principal.tenant_id, account, cycle)


@router.post(
    "/tenants/{tid}/cashback/ledger/{account}/{cycle}/apply-to-debt",
    status_code=201,
    responses=documented(
        "validation_error", "not_found", "cycle_not_closed", "idempotency_conflict", "busy"
    ),
)
def apply_to_debt(
    account: HolderPath,
    cycle: CyclePath,
    body: ApplyToDebtCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
) -> DebtMovementPublic:
    """Apply a closed cycle's cashback as a ``discount`` on a person's debt, once per cycle."""
    tenant_id = principal.tenant_id
    result = cashback.apply_to_debt(
        ledger,
        tenant_id,
        account,
        cycle,
        person_id=body.person_id,
        debt_cycle_tag=body.debt_cycle_tag,
    )
    mark_replay(response, result.replayed)
    return DebtMovementPublic.of(result.movement, _LEDGER.scale(ledger, tenant_id))
