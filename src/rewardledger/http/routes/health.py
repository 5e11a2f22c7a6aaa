"""GET /healthz: the process is up and serving. No authentication, no database round trip."""

from __future__ import annotations

from fastapi import APIRouter

from rewardledger.http.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> HealthPublic:
    return HealthPublic(status="ok")
