"""Health: ``GET /healthz`` says the process is up and serving (liveness: no authentication,
no database round trip); ``GET /readyz`` says whether it can serve requests now (readiness:
one round trip to the database, 503 ``database_unavailable`` when it cannot be reached)."""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http import outages
from rewardledger.http.deps import LedgerDep
from rewardledger.http.problems import documented
from rewardledger.http.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> HealthPublic:
    """200 while the process serves requests (liveness)."""
    # async: nothing here blocks, and a plain ``def`` route runs in a worker thread and has its
    # answer checked in another, two hops to the thread pool for a constant.
    return HealthPublic(status="ok")


@router.get("/readyz", responses=documented("database_unavailable"))
def readyz(ledger: LedgerDep) -> HealthPublic:
    """200 when the database answers and holds the ledger's schema; else 503 with Retry-After."""
    if not outages.reachable(ledger):
        raise outages.DatabaseLost()
    return HealthPublic(status="ready")
