"""SQL storage of webhooks (implements ``events.webhooks.port.WebhookStore``).

Owns: the statements on ``webhook_endpoints``, ``webhook_deliveries`` and ``webhook_attempts``.
Protects:
- one delivery per (tenant, endpoint, event): the fan-out inserts ON CONFLICT DO NOTHING;
- one worker per attempt: a claim marks due deliveries in flight under a fresh lease token in
  one short transaction. On PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED, and
  on both engines the UPDATE repeats the "still due" condition, so a delivery another worker
  claimed first is not claimed again; every later write of the delivery (renew, attempt,
  release) names the token, so a worker whose lease was taken over writes nothing;
- order per (endpoint, subject): a delivery is claimed only when no earlier delivery (in feed
  order) of its endpoint and subject is still pending or in flight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    exists,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Row

from rewardledger.domain.webhooks import DeliveryStatus
from rewardledger.events.views import FeedPosition, StoredEvent
from rewardledger.events.webhooks.views import (
    Attempt,
    ClaimedDelivery,
    Delivery,
    DeliveryQuery,
    Endpoint,
    EventRange,
    MadeAttempt,
    NewDelivery,
)
from rewardledger.storage.events import EVENT_COLUMNS, stored_event
from rewardledger.storage.rows import columns_of, record_of
from rewardledger.storage.schema import outbox
from rewardledger.storage.schema_webhooks import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from rewardledger.storage.store_base import EngineStore
from rewardledger.storage.tenancy import scoped_by_tenant
from rewardledger.storage.webhooks_health import endpoint_health

_E, _D, _A = webhook_endpoints, webhook_deliveries, webhook_attempts
PENDING, IN_FLIGHT = DeliveryStatus.PENDING.value, DeliveryStatus.IN_FLIGHT.value
_UNFINISHED = (PENDING, IN_FLIGHT)


def _endpoint(row: Row[Any]) -> Endpoint:
    return record_of(Endpoint, row, event_types=tuple(row.event_types), enabled=bool(row.enabled))


def _attempt(row: Row[Any]) -> Attempt:
    return record_of(Attempt, row)


def _delivery_key(tenant_id: str, endpoint_id: str, event_id: str) -> Any:
    return and_(
        _D.c.tenant_id == tenant_id, _D.c.endpoint_id == endpoint_id, _D.c.event_id == event_id
    )


@scoped_by_tenant
class SqlWebhookStore(EngineStore):
    def add_endpoint(self, tenant_id: str, endpoint: Endpoint) -> None:
        with self.engine.begin() as connection:
            row = {**columns_of(endpoint), "event_types": list(endpoint.event_types)}
            connection.execute(insert(_E).values(tenant_id=tenant_id, **row))

    def endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint | None:
        query = select(_E).where(_E.c.tenant_id == tenant_id, _E.c.endpoint_id == endpoint_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else _endpoint(row)

    def endpoints(
        self, tenant_id: str, *, after: str | None, limit: int, enabled_only: bool = False
    ) -> list[Endpoint]:
        query = select(_E).where(_E.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(_E.c.endpoint_id > after)
        if enabled_only:
            query = query.where(_E.c.enabled.is_(True))
        query = query.order_by(_E.c.endpoint_id).limit(limit)
        with self.engine.connect() as connection:
            return [_endpoint(row) for row in connection.execute(query)]

    def update_endpoint(
        self, tenant_id: str, endpoint_id: str, changes: Mapping[str, Any], now: datetime
    ) -> Endpoint | None:
        statement = (
            update(_E)
            .where(_E.c.tenant_id == tenant_id, _E.c.endpoint_id == endpoint_id)
            .values(**changes, updated_at=now)
            .returning(*_E.c)
        )
        with self.engine.begin() as connection:
            row = connection.execute(statement).one_or_none()
        return None if row is None else _endpoint(row)

    def remove_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        with self.engine.begin() as connection:
            for table in (_A, _D):
                connection.execute(
                    delete(table).where(
                        table.c.tenant_id == tenant_id, table.c.endpoint_id == endpoint_id
                    )
                )
            removed = connection.execute(
                delete(_E).where(_E.c.tenant_id == tenant_id, _E.c.endpoint_id == endpoint_id)
            )
        return removed.rowcount > 0

    def _new_rows(
        self, tenant_id: str, deliveries: Sequence[NewDelivery], now: datetime
    ) -> list[dict[str, Any]]:
        return [
            {
                "tenant_id": tenant_id,
                **columns_of(d),
                "status": PENDING,
                "tries": 0,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for d in deliveries
        ]

    def add_deliveries(
        self, tenant_id: str, deliveries: Sequence[NewDelivery], now: datetime
    ) -> int:
        if not deliveries:
            return 0
        statement = self._dialect_insert(_D).on_conflict_do_nothing(
            index_elements=[_D.c.tenant_id, _D.c.endpoint_id, _D.c.event_id]
        )
        with self.engine.begin() as connection:
            result = connection.execute(
                statement.returning(_D.c.event_id), self._new_rows(tenant_id, deliveries, now)
            )
            return len(result.all())

    def schedule_again(
        self, tenant_id: str, deliveries: Sequence[NewDelivery], now: datetime
    ) -> int:
        if not deliveries:
            return 0
        statement = self._dialect_insert(_D)
        statement = statement.on_conflict_do_update(
            index_elements=[_D.c.tenant_id, _D.c.endpoint_id, _D.c.event_id],
            set_={
                "status": PENDING,
                "tries": 0,
                "next_attempt_at": statement.excluded.next_attempt_at,
                "updated_at": statement.excluded.updated_at,
            },
            where=_D.c.status != IN_FLIGHT,
        )
        with self.engine.begin() as connection:
            result = connection.execute(
                statement.returning(_D.c.event_id), self._new_rows(tenant_id, deliveries, now)
            )
            return len(result.all())

    def claim_due(
        self, tenant_id: str, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[ClaimedDelivery]:
        due = or_(
            and_(_D.c.status == PENDING, _D.c.next_attempt_at <= now),
            and_(_D.c.status == IN_FLIGHT, _D.c.lease_expires_at <= now),
        )
        earlier = _D.alias("earlier")
        blocked = exists().where(
            earlier.c.tenant_id == _D.c.tenant_id,
            earlier.c.endpoint_id == _D.c.endpoint_id,
            earlier.c.subject_id == _D.c.subject_id,
            tuple_(earlier.c.txid, earlier.c.position) < tuple_(_D.c.txid, _D.c.position),
            earlier.c.status.in_(_UNFINISHED),
        )
        enabled = exists().where(
            _E.c.tenant_id == _D.c.tenant_id,
            _E.c.endpoint_id == _D.c.endpoint_id,
            _E.c.enabled.is_(True),
        )
        candidates = (
            select(_D.c.endpoint_id, _D.c.event_id)
            .where(_D.c.tenant_id == tenant_id, due, enabled, ~blocked)
            .order_by(_D.c.next_attempt_at, _D.c.txid, _D.c.position)
            .limit(limit)
        )
        if self.postgres:
            candidates = candidates.with_for_update(skip_locked=True, of=_D)
        with self.engine.begin() as connection:
            keys = [(row.endpoint_id, row.event_id) for row in connection.execute(candidates)]
            if not keys:
                return []
            connection.execute(
                update(_D)
                .where(
                    _D.c.tenant_id == tenant_id,
                    tuple_(_D.c.endpoint_id, _D.c.event_id).in_(keys),
                    due,
                )
                .values(status=IN_FLIGHT, lease_token=token, lease_expires_at=lease_until)
            )
            return self._claimed(connection, tenant_id, token)

    def _claimed(self, connection: Connection, tenant_id: str, token: str) -> list[ClaimedDelivery]:
        query = (
            select(_D, outbox.c.payload, outbox.c.created_at.label("occurred_at"))
            .join(
                outbox,
                and_(outbox.c.tenant_id == _D.c.tenant_id, outbox.c.event_id == _D.c.event_id),
            )
            .where(_D.c.tenant_id == tenant_id, _D.c.lease_token == token)
            .order_by(_D.c.txid, _D.c.position)
        )
        rows = connection.execute(query).all()
        ids = sorted({row.endpoint_id for row in rows})
        endpoints = {
            row.endpoint_id: _endpoint(row)
            for row in connection.execute(
                select(_E).where(_E.c.tenant_id == tenant_id, _E.c.endpoint_id.in_(ids))
            )
        }
        return [
            record_of(ClaimedDelivery, row, endpoint=endpoints[row.endpoint_id], lease_token=token)
            for row in rows
        ]

    def _held(self, tenant_id: str, claimed: ClaimedDelivery) -> Any:
        return and_(
            _delivery_key(tenant_id, claimed.endpoint.endpoint_id, claimed.event_id),
            _D.c.lease_token == claimed.lease_token,
        )

    def renew(self, tenant_id: str, claimed: ClaimedDelivery, lease_until: datetime) -> bool:
        statement = (
            update(_D).where(self._held(tenant_id, claimed)).values(lease_expires_at=lease_until)
        )
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount > 0

    def release(
        self,
        tenant_id: str,
        claimed: Sequence[ClaimedDelivery],
        not_before: datetime | None = None,
    ) -> None:
        if not claimed:
            return
        values: dict[str, Any] = {"status": PENDING, "lease_token": None, "lease_expires_at": None}
        if not_before is not None:
            values["next_attempt_at"] = case(
                (_D.c.next_attempt_at < not_before, not_before), else_=_D.c.next_attempt_at
            )
        statement = (
            update(_D)
            .where(
                _D.c.tenant_id == tenant_id,
                _D.c.lease_token.in_(sorted({one.lease_token for one in claimed})),
                tuple_(_D.c.endpoint_id, _D.c.event_id).in_(
                    [(one.endpoint.endpoint_id, one.event_id) for one in claimed]
                ),
            )
            .values(values)
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def record_attempt(self, tenant_id: str, attempt: MadeAttempt) -> bool:
        claimed, outcome = attempt.claimed, attempt.outcome
        moved = (
            update(_D)
            .where(self._held(tenant_id, claimed))
            .values(
                status=attempt.status.value,
                tries=_D.c.tries + 1,
                attempts=_D.c.attempts + 1,
                next_attempt_at=attempt.next_attempt_at,
                lease_token=None,
                lease_expires_at=None,
                updated_at=outcome.attempted_at,
            )
            .returning(_D.c.attempts)
        )
        with self.engine.begin() as connection:
            number = connection.execute(moved).scalar_one_or_none()
            if number is None:
                return False
            connection.execute(
                insert(_A).values(
                    tenant_id=tenant_id,
                    endpoint_id=claimed.endpoint.endpoint_id,
                    event_id=claimed.event_id,
                    attempt=number,
                    **columns_of(outcome),
                )
            )
        return True

    def deliveries(
        self, tenant_id: str, wanted: DeliveryQuery
    ) -> list[tuple[FeedPosition, Delivery]]:
        endpoint_id, before = wanted.endpoint_id, wanted.before
        query = select(_D).where(_D.c.tenant_id == tenant_id, _D.c.endpoint_id == endpoint_id)
        if before is not None:
            query = query.where(
                tuple_(_D.c.txid, _D.c.position) < tuple_(before.txid, before.position)
            )
        query = query.order_by(_D.c.txid.desc(), _D.c.position.desc()).limit(wanted.limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
            found = []
            for row in rows:
                attempts = self._attempts(connection, tenant_id, endpoint_id, row.event_id)
                found.append(
                    (
                        FeedPosition(row.txid, row.position),
                        _delivery(row, attempts[-wanted.attempts_limit :]),
                    )
                )
        return found

    def attempts(self, tenant_id: str, endpoint_id: str, event_id: str) -> list[Attempt]:
        with self.engine.connect() as connection:
            return self._attempts(connection, tenant_id, endpoint_id, event_id)

    @staticmethod
    def _attempts(
        connection: Connection, tenant_id: str, endpoint_id: str, event_id: str
    ) -> list[Attempt]:
        query = (
            select(_A)
            .where(
                _A.c.tenant_id == tenant_id,
                _A.c.endpoint_id == endpoint_id,
                _A.c.event_id == event_id,
            )
            .order_by(_A.c.attempt)
        )
        return [_attempt(row) for row in connection.execute(query)]

    def health(
        self, tenant_id: str, endpoint_ids: Sequence[str]
    ) -> dict[str, tuple[datetime | None, int, datetime | None]]:
        return endpoint_health(self.engine, tenant_id, endpoint_ids)

    def event(self, tenant_id: str, event_id: str) -> StoredEvent | None:
        query = select(*EVENT_COLUMNS).where(
            outbox.c.tenant_id == tenant_id, outbox.c.event_id == event_id
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else stored_event(row)

    def events_in_range(self, tenant_id: str, wanted: EventRange) -> list[StoredEvent]:
        after, until = wanted.after, wanted.until
        place = tuple_(outbox.c.txid, outbox.c.position)
        query = select(*EVENT_COLUMNS).where(
            outbox.c.tenant_id == tenant_id, place > tuple_(after.txid, after.position)
        )
        if until is not None:
            query = query.where(place <= tuple_(until.txid, until.position))
        if wanted.since is not None:
            query = query.where(outbox.c.created_at >= wanted.since)
        if wanted.until_time is not None:
            query = query.where(outbox.c.created_at < wanted.until_time)
        query = query.order_by(outbox.c.txid, outbox.c.position).limit(wanted.limit)
        with self.engine.connect() as connection:
            return [stored_event(row) for row in connection.execute(query)]


def _delivery(row: Row[Any], attempts: Sequence[Attempt]) -> Delivery:
    return record_of(Delivery, row, status=DeliveryStatus(row.status), attempts=tuple(attempts))
