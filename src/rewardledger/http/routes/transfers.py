"""Transfers: create one or a batch, read one, post or void a pending one.

A transfer's id is its idempotency key. It is sent as the ``Idempotency-Key`` header or as
``idempotency_key`` in the body (``ref``, deprecated; the same value if several). The first
result of an id is 201; a replay of the same request is answered from the stored result
with 200 and ``Idempotent-Replayed: true`` (invariant 7); the same id with other values is
409 ``idempotency_conflict``. A refusal is recorded under its id too, so its replay is the
same refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Response
from starlette.concurrency import run_in_threadpool

from rewardledger.domain.access import Principal
from rewardledger.domain.errors import BatchFailed, ValidationError
from rewardledger.domain.limits import DERIVED_ID_LENGTH_MAX, VALIDATION_ERRORS_LISTED_MAX
from rewardledger.http.deps import LedgerDep, Reader, Writer
from rewardledger.http.group_commit import GroupCommit, get_group_commit
from rewardledger.http.idempotency import REPLAYED_HEADER, key_of, mark_replay
from rewardledger.http.problems import documented, tenant_route_problems
from rewardledger.http.schemas import (
    TRANSFER_ID_PATH_PATTERN,
    PostCreate,
    TransferBatchCreate,
    TransferBatchPublic,
    TransferCreate,
    TransferPublic,
    TransferResultPublic,
    VoidCreate,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.results import TransferResult

router = APIRouter(tags=["transfers"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=DERIVED_ID_LENGTH_MAX,
        pattern=TRANSFER_ID_PATH_PATTERN,
        description="The id of the transfer written by this request (its idempotency key).",
    ),
]
TransferIdPath = Annotated[
    str,
    Path(
        alias="id",
        max_length=DERIVED_ID_LENGTH_MAX,
        pattern=TRANSFER_ID_PATH_PATTERN,
        description="The transfer's id.",
    ),
]
_WRITE_PROBLEMS = tenant_route_problems(
    "idempotency_conflict",
    "not_pending",
    "insufficient_funds",
    "currency_mismatch",
    "exceeds_pending_amount",
    "balance_overflow",
    "managed_account",
    "busy",
    "payload_too_large",
)


def _answer(result: TransferResult, response: Response) -> TransferPublic:
    """201 for a first write; 200 for a replay (flagged in a header) or a dry run."""
    transfer = raise_for_single(result)
    mark_replay(response, result.replayed)
    if result.dry_run:
        response.status_code = 200
    return TransferPublic.of(transfer)


async def _resolve(
    ledger: Ledger,
    principal: Principal,
    pending_id: str,
    body: PostCreate | VoidCreate,
    idempotency_key: str | None,
    response: Response,
) -> TransferPublic:
    """Post or void ``pending_id`` as ``body`` says, under the idempotency key sent (header or
    body) or else the id derived from the pending one."""
    key = key_of(idempotency_key, {"idempotency_key": body.idempotency_key}, required=False)
    operation = body.to_operation(pending_id, key or None)
    results = await run_in_threadpool(
        ledger.submit, principal.tenant_id, [operation], dry_run=body.dry_run
    )
    return _answer(results[0], response)


@router.post("/tenants/{tid}/transfers", status_code=201, responses=_WRITE_PROBLEMS)
async def create_transfer(
    body: TransferCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    committer: Annotated[GroupCommit | None, Depends(get_group_commit)],
    idempotency_key: IdempotencyKey = None,
) -> TransferPublic:
    """Move ``amount`` of ``asset`` from the debit account to the credit account.

    With ``pending`` the amount is held until posted, voided, or expired after
    ``timeout_seconds``. With ``dry_run`` the transfer is checked and answered, not written.
    """
    # async, with only the write in a worker thread (so too posting and voiding): a plain
    # ``def`` route is run in one and its answer checked in another, two hops where one does.
    key = key_of(idempotency_key, {"idempotency_key": body.idempotency_key, "ref": body.ref})
    request = body.to_request(key)
    if committer is not None and not body.dry_run:  # with the others waiting (group commit)
        return _answer(await committer.submit(ledger, principal.tenant_id, request), response)
    results = await run_in_threadpool(
        ledger.submit, principal.tenant_id, [request], dry_run=body.dry_run
    )
    return _answer(results[0], response)


def _batch_ids(body: TransferBatchCreate, header: str | None) -> list[str]:
    keys = [
        key_of(None, {"idempotency_key": item.idempotency_key, "ref": item.ref}, required=False)
        for item in body.transfers
    ]
    if header is None:
        missing = [index for index, key in enumerate(keys) if not key]
        if missing:
            raise ValidationError(
                f"{len(missing)} item(s) of the batch have no idempotency_key, the first is "
                f"transfers[{missing[0]}]. Give every item an idempotency_key, or send an "
                "Idempotency-Key header so that items without one get '<key>.<index>'.",
                errors=[
                    {
                        "field": f"transfers[{index}].idempotency_key",
                        "message": "idempotency_key is required.",
                    }
                    for index in missing[:VALIDATION_ERRORS_LISTED_MAX]
                ],
            )
    return [key or f"{header}.{index}" for index, key in enumerate(keys)]


def _batch_failed(
    results: Sequence[TransferResult], public: Sequence[TransferResultPublic]
) -> BatchFailed:
    """The refusal of an all-or-nothing batch, naming the item that caused it."""
    refused = [i for i, r in enumerate(results) if r.error is not None]
    first = next((i for i in refused if not isinstance(results[i].error, BatchFailed)), refused[0])
    cause = results[first].error
    assert cause is not None
    return BatchFailed(
        f"Not applied: the batch is all-or-nothing and item {first} ({results[first].id!r}) was "
        f"refused with {cause.code}: {cause.message} Fix that item and send the batch again "
        "with new ids (the refused ids are recorded); results lists every item's outcome.",
        failed_index=first,
        failed_id=results[first].id,
        failed_code=cause.code,
        replayed=all(r.replayed for r in results),
        results=[item.model_dump(mode="json") for item in public],
    )


@router.post(
    "/tenants/{tid}/transfers/batch",
    status_code=201,
    responses=documented("batch_failed") | _WRITE_PROBLEMS,
)
def create_batch(
    body: TransferBatchCreate,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
) -> TransferBatchPublic:
    """Up to 8,000 transfers in one transaction, with one result per item, in order.

    ``atomic`` (the default): all are applied or none, and a refusal answers 422
    ``batch_failed`` with every item's result. Otherwise each item is applied or refused on its
    own: 201 if any was written, else 200.
    """
    requests = [
        item.to_request(transfer_id)
        for item, transfer_id in zip(body.transfers, _batch_ids(body, idempotency_key), strict=True)
    ]
    results = ledger.transfer_batch(
        principal.tenant_id, requests, atomic=body.atomic, dry_run=body.dry_run
    )
    public = [TransferResultPublic.of(index, result) for index, result in enumerate(results)]
    if body.atomic and any(not result.ok for result in results):
        raise _batch_failed(results, public)
    if not any(r.ok and not r.replayed and not r.dry_run for r in results):
        response.status_code = 200
    if all(result.replayed for result in results):
        response.headers[REPLAYED_HEADER] = "true"
    return TransferBatchPublic(atomic=body.atomic, dry_run=body.dry_run, results=public)


@router.get("/tenants/{tid}/transfers/{id}", responses=tenant_route_problems())
def get_transfer(
    transfer_id: TransferIdPath, ledger: LedgerDep, principal: Reader
) -> TransferPublic:
    """A transfer; a pending one shows its ``state`` and the id that ``resolved_by`` it."""
    return TransferPublic.of(ledger.get_transfer(principal.tenant_id, transfer_id))


@router.post("/tenants/{tid}/transfers/{id}/post", status_code=201, responses=_WRITE_PROBLEMS)
async def post_transfer(
    transfer_id: TransferIdPath,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[PostCreate | None, Body()] = None,
) -> TransferPublic:
    """Post a pending transfer, in full or for ``amount`` (less; the rest is released).

    The posting is written under its idempotency key if given, else ``<id>.post``.
    """
    chosen = body if body is not None else PostCreate()
    return await _resolve(ledger, principal, transfer_id, chosen, idempotency_key, response)


@router.post("/tenants/{tid}/transfers/{id}/void", status_code=201, responses=_WRITE_PROBLEMS)
async def void_transfer(
    transfer_id: TransferIdPath,
    response: Response,
    ledger: LedgerDep,
    principal: Writer,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[VoidCreate | None, Body()] = None,
) -> TransferPublic:
    """Void a pending transfer: release all it holds.

    The void is written under its idempotency key if given, else ``<id>.void``.
    """
    chosen = body if body is not None else VoidCreate()
    return await _resolve(ledger, principal, transfer_id, chosen, idempotency_key, response)
