"""Examples of the operators' shapes: webhook endpoints and their deliveries
(``http.schemas_webhooks``), the event feed (``routes.events``) and the worker's jobs
(``routes.jobs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewardledger.domain.paging import encode_cursor, instant_part
from rewardledger.http.examples.values import AT, CREATED_AT, CURSOR, LATER, TENANT, WALLET

Json = dict[str, Any]

_ENDPOINT_ID = "ep_0f3c9a51c2b84d7e9a1b2c3d4e5f6a7b"
_EVENT_ID = "01a23769-7398-76c2-afe8-1598012b0e4c"
_URL = "https://example.com/hooks/rewardledger"

ENDPOINT_CREATE: Json = {
    "url": _URL,
    "event_types": ["transfer.posted", "points.earned"],
    "description": "CRM sync",
    "enabled": True,
}
ENDPOINT_UPDATE: Json = {"event_types": ["*"], "enabled": False}
SECRET_ROTATION: Json = {"overlap_seconds": 86400}
REDELIVER_RANGE: Json = {
    "since": "2026-03-14T00:00:00-05:00",
    "until_time": "2026-03-15T00:00:00-05:00",
}
ENDPOINT: Json = {
    "endpoint_id": _ENDPOINT_ID,
    **ENDPOINT_CREATE,
    "created_at": CREATED_AT,
    "updated_at": CREATED_AT,
    "previous_secret_expires_at": None,
}
ENDPOINT_SECRET: Json = {**ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
ENDPOINTS: Json = {"endpoints": [ENDPOINT], "next_cursor": None}
ATTEMPT: Json = {
    "attempt": 1,
    "attempted_at": AT,
    "status_code": None,
    "error": "ReadTimeout: timed out",
    "latency_ms": 10000,
    "response_excerpt": "",
}
DELIVERY: Json = {
    "event_id": _EVENT_ID,
    "event_type": "points.earned",
    "subject_id": "invoice-20260314-0042",
    "status": "pending",
    "tries": 1,
    "next_attempt_at": LATER,
    "created_at": AT,
    "updated_at": AT,
    "attempts": [ATTEMPT],
}
DELIVERIES: Json = {"deliveries": [DELIVERY], "next_cursor": CURSOR}
REDELIVERY: Json = {"scheduled": 3, "next_cursor": None}

EVENT: Json = {
    "id": _EVENT_ID,
    "type": "points.earned",
    "version": 1,
    "tenant_id": TENANT,
    "subject_id": "invoice-20260314-0042",
    "occurred_at": "2026-03-14T14:30:00+00:00",
    "data": {"holder": "member-00000", "account": WALLET, "amount": "150", "dtype": "invoice"},
}
EVENT_PAGE: Json = {"events": [EVENT], "next_cursor": CURSOR}

STEP_FAILURE: Json = {
    "step": "webhooks",
    "code": "database_unavailable",
    "message": "The database is unavailable; retry in a few seconds.",
    "attempts": 2,
}
JOBS_REPORT: Json = {
    "tenant_id": TENANT,
    "steps": {
        "holds": {"holds_expired": 1},
        "points": {"points_activated": 2, "lots_expired": 0, "redemptions_expired": 1},
        "cycles_refresh": {"cycle_pairs_refreshed": 2, "cycle_rows_changed": 2},
    },
    "failures": [STEP_FAILURE],
}
JOB_FAILURE: Json = {
    "failure_id": "9d2f6c1a-4b7e-4e55-8a3b-0c6f2e9d1a77",
    **STEP_FAILURE,
    "first_failed_at": AT,
    "last_failed_at": LATER,
    "resolved_at": None,
}
JOB_FAILURES: Json = {
    "failures": [JOB_FAILURE],
    "next_cursor": encode_cursor(
        instant_part(datetime.fromisoformat(LATER)), JOB_FAILURE["failure_id"]
    ),
}
