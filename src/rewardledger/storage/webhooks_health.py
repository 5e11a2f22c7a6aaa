"""The webhook endpoints' delivery health, read from ``webhook_deliveries``.

Owns: two reads that stay cheap however many deliveries were made, both on the index
(tenant, status, next attempt): the unfinished and failed deliveries grouped by endpoint (the
few that are not delivered), and per endpoint its latest delivered one (a delivered row's
next attempt is the time of the attempt that succeeded), found by walking that index from its
end; when none is delivered now (a redelivery put them all back), its latest successful
attempt instead (a walk over that endpoint's attempts, which only then is paid).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, func, select

from rewardledger.domain.webhooks import DeliveryStatus
from rewardledger.storage.schema_webhooks import webhook_attempts, webhook_deliveries

_D, _A = webhook_deliveries, webhook_attempts
HTTP_OK_MIN, HTTP_OK_MAX = 200, 299

_FAILED = DeliveryStatus.FAILED.value
_UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.IN_FLIGHT.value)

Health = tuple[datetime | None, int, datetime | None]


def endpoint_health(
    engine: Engine, tenant_id: str, endpoint_ids: Sequence[str]
) -> dict[str, Health]:
    """endpoint -> (oldest unfinished delivery's creation, failed deliveries, last delivered);
    endpoints without any delivery are absent."""
    if not endpoint_ids:
        return {}
    wanted = sorted(set(endpoint_ids))
    grouped = (
        select(_D.c.endpoint_id, _D.c.status, func.count(), func.min(_D.c.created_at))
        .where(
            _D.c.tenant_id == tenant_id,
            _D.c.status.in_([*_UNFINISHED, _FAILED]),
            _D.c.endpoint_id.in_(wanted),
        )
        .group_by(_D.c.endpoint_id, _D.c.status)
    )
    oldest: dict[str, datetime] = {}
    failed: dict[str, int] = {}
    last: dict[str, datetime] = {}
    with engine.connect() as connection:
        for endpoint_id, status, count, first in connection.execute(grouped):
            if status == _FAILED:
                failed[endpoint_id] = int(count)
            elif endpoint_id not in oldest or first < oldest[endpoint_id]:
                oldest[endpoint_id] = first
        for endpoint_id in wanted:
            latest = connection.execute(
                select(_D.c.next_attempt_at)
                .where(
                    _D.c.tenant_id == tenant_id,
                    _D.c.status == DeliveryStatus.DELIVERED.value,
                    _D.c.endpoint_id == endpoint_id,
                )
                .order_by(_D.c.next_attempt_at.desc())
                .limit(1)
            ).scalar()
            if latest is None:  # none delivered now (all redelivered?): its attempts say
                latest = connection.execute(
                    select(func.max(_A.c.attempted_at)).where(
                        _A.c.tenant_id == tenant_id,
                        _A.c.endpoint_id == endpoint_id,
                        _A.c.status_code >= HTTP_OK_MIN,
                        _A.c.status_code <= HTTP_OK_MAX,
                    )
                ).scalar()
            if latest is not None:
                last[endpoint_id] = latest
    return {
        endpoint_id: (oldest.get(endpoint_id), failed.get(endpoint_id, 0), last.get(endpoint_id))
        for endpoint_id in wanted
        if endpoint_id in oldest or endpoint_id in failed or endpoint_id in last
    }
