"""Group commit: the single transfers that arrive together are written in one transaction.

Owns: coalescing the concurrent ``POST /transfers`` of one server process (on with
``REWARDLEDGER_GROUP_COMMIT``). Each tenant has a lane: a request enqueues its operation and
waits for its own result; one writer per lane takes everything waiting (at most
``GROUP_SIZE_MAX``) and runs it as one ``Ledger.submit(..., atomic=False)`` in a worker thread,
whose results are per item (a refusal is that item's result, a replay is answered from its
stored row). There is no timer: a request that finds its lane idle is written at once, alone,
by its own task, exactly as without this (so one client waits no longer); while a write is in
flight, the requests that arrive gather for the next one. So the database commits once per
group, not per request.

Every answer is the one the single path gives (invariant 7 holds per id):
- a group of one is the single path's own call, ``Ledger.submit(tenant, [op])``;
- two operations with the same id never share a group (the later waits for the next one), so
  the second is answered as a replay or a conflict of the first, as it would be alone;
- if a group fails as a whole (a bad amount or unknown asset refused before writing, which
  refuses the whole call, ``Busy``, a lost database), nothing of it was written, and each of
  its operations is run again alone on the single path, which gives each its own answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from rewardledger.domain.transfers import TransferRequest, operation_id
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.results import TransferResult

logger = logging.getLogger(__name__)

# Enough to keep every client of a busy process in one group, small enough that a group's
# locks and rows stay a short transaction.
GROUP_SIZE_MAX = 64


@dataclass(frozen=True, slots=True)
class _Waiting:
    request: TransferRequest
    id: str
    answer: asyncio.Future[TransferResult]


@dataclass(eq=False)
class _Lane:
    """The requests of one tenant waiting to be written, and whether its writer runs."""

    loop: asyncio.AbstractEventLoop
    waiting: deque[_Waiting] = field(default_factory=deque)
    busy: bool = False  # a request that found the lane idle is being written, alone
    writer: asyncio.Task[None] | None = None


class GroupCommit:
    """The lanes of one app (one per tenant); only touched from the app's event loop."""

    def __init__(self, group_size_max: int = GROUP_SIZE_MAX) -> None:
        self._lanes: dict[tuple[int, str], _Lane] = {}
        self._group_size_max = group_size_max
        self.groups_written = 0  # groups of more than one, for tests and logs
        self.groups_written_alone = 0  # of those, how many failed as a whole (each run alone)

    async def submit(
        self, ledger: Ledger, tenant_id: str, request: TransferRequest
    ) -> TransferResult:
        """The result of ``request``: written at once, alone, if its lane is idle, else with
        whatever else is waiting when the write in flight ends."""
        loop = asyncio.get_running_loop()
        key = (id(ledger), tenant_id)
        lane = self._lanes.get(key)
        if lane is None or lane.loop is not loop:
            lane = self._lanes[key] = _Lane(loop)
        if not lane.busy and lane.writer is None:
            # The lane is idle: this request is the single path itself, in its own task.
            lane.busy = True
            try:
                results = await run_in_threadpool(ledger.submit, tenant_id, [request])
            finally:
                lane.busy = False
                if lane.waiting:  # arrived meanwhile: written together, next
                    lane.writer = loop.create_task(self._write(ledger, tenant_id, lane))
            return results[0]
        answer: asyncio.Future[TransferResult] = loop.create_future()
        lane.waiting.append(_Waiting(request, operation_id(request), answer))
        return await answer

    async def _write(self, ledger: Ledger, tenant_id: str, lane: _Lane) -> None:
        """Write groups while requests wait; then stop (the next request starts it again)."""
        try:
            while lane.waiting:
                group = _take(lane.waiting, self._group_size_max)
                if len(group) > 1:
                    self.groups_written += 1
                if not await _settle(ledger, tenant_id, group):
                    self.groups_written_alone += 1
        finally:
            lane.writer = None
            for item in lane.waiting:  # only if this task was cancelled (the loop is closing)
                if not item.answer.done():
                    item.answer.cancel()
            if lane.waiting:
                lane.waiting.clear()


def _take(waiting: deque[_Waiting], size_max: int) -> list[_Waiting]:
    """Up to ``size_max`` of ``waiting``, in order, no id twice; the rest stay, in order."""
    group: list[_Waiting] = []
    ids: set[str] = set()
    later: list[_Waiting] = []
    while waiting and len(group) < size_max:
        item = waiting.popleft()
        if item.answer.done():
            continue  # its request was cancelled before it was written: nobody waits for it
        if item.id in ids:
            later.append(item)
        else:
            ids.add(item.id)
            group.append(item)
    waiting.extendleft(reversed(later))
    return group


async def _settle(ledger: Ledger, tenant_id: str, group: Sequence[_Waiting]) -> bool:
    """Write ``group`` and give each waiting request its own result or error; whether it was
    written as one (else each was written alone)."""
    together, outcomes = await run_in_threadpool(
        _run, ledger, tenant_id, [w.request for w in group]
    )
    for item, outcome in zip(group, outcomes, strict=True):
        if item.answer.done():
            continue  # its client left; the write stands, as on the single path
        if isinstance(outcome, TransferResult):
            item.answer.set_result(outcome)
        else:
            item.answer.set_exception(outcome)
    return together


def _run(
    ledger: Ledger, tenant_id: str, requests: Sequence[TransferRequest]
) -> tuple[bool, list[TransferResult | Exception]]:
    """In a worker thread: ``requests`` in one transaction, or each alone if that fails."""
    if len(requests) > 1:
        try:
            return True, list(ledger.submit(tenant_id, requests, atomic=False))
        except Exception as error:  # nothing was written: each request is answered alone
            logger.info(
                "A group of %d transfers failed as a whole (%s); writing each alone",
                len(requests),
                type(error).__name__,
            )
    return len(requests) == 1, [_alone(ledger, tenant_id, request) for request in requests]


def _alone(ledger: Ledger, tenant_id: str, request: TransferRequest) -> TransferResult | Exception:
    """The single path's own call for one transfer: its result, or what it raised."""
    try:
        return ledger.submit(tenant_id, [request])[0]
    except Exception as error:
        return error


async def get_group_commit(request: Request) -> GroupCommit | None:
    """The app's coalescer, or None when ``REWARDLEDGER_GROUP_COMMIT`` is off."""
    committer: GroupCommit | None = getattr(request.app.state, "group_commit", None)
    return committer
