"""The client's operations on events and webhooks: the event feed read from a cursor, and the
tenant's webhook endpoints, their deliveries and redelivery (docs/events.md, docs/webhooks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardledger.client._operation import ask, keyed, operation
from rewardledger.client._transport import Call, NoContent
from rewardledger.http.routes.events import EventPagePublic
from rewardledger.http.schemas_webhooks import (
    DeliveriesPublic,
    EndpointCreate,
    EndpointPublic,
    EndpointSecretPublic,
    EndpointsPublic,
    EndpointUpdate,
    RedeliverRange,
    RedeliveryPublic,
    SecretRotation,
)

T = "/v1/tenants/{tid}"
W = f"{T}/webhooks"


class EventOperations:
    @operation("GET", f"{T}/events")
    def events(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        event_types: Sequence[str] = (),
    ) -> Call[EventPagePublic]:
        """The tenant's events after the cursor ``after`` (from the first when None)."""
        query = {"after": after, "limit": limit, "type": list(event_types) or None}
        return ask(EventPagePublic, query=query)

    @operation("POST", W)
    def create_webhook(
        self, body: EndpointCreate, *, idempotency_key: str | None = None
    ) -> Call[EndpointSecretPublic]:
        """Add an endpoint; its secret is in this answer, and in a retry's under the same
        idempotency key (one is made for each call unless given), which adds no second one."""
        return keyed(EndpointSecretPublic, body, idempotency_key)

    @operation("GET", W)
    def list_webhooks(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[EndpointsPublic]:
        return ask(EndpointsPublic, query={"limit": limit, "cursor": cursor})

    @operation("GET", f"{W}/{{eid}}")
    def get_webhook(self, eid: str) -> Call[EndpointPublic]:
        return ask(EndpointPublic, path={"eid": eid})

    @operation("PATCH", f"{W}/{{eid}}")
    def update_webhook(self, eid: str, body: EndpointUpdate) -> Call[EndpointPublic]:
        return ask(EndpointPublic, path={"eid": eid}, body=body)

    @operation("DELETE", f"{W}/{{eid}}")
    def delete_webhook(self, eid: str) -> Call[NoContent]:
        return ask(NoContent, path={"eid": eid})

    @operation("POST", f"{W}/{{eid}}/rotate-secret")
    def rotate_webhook_secret(self, eid: str, body: SecretRotation) -> Call[EndpointSecretPublic]:
        """A new secret (the old one signs too for the overlap); not repeated on a lost answer."""
        return ask(EndpointSecretPublic, path={"eid": eid}, body=body, safe=False)

    @operation("GET", f"{W}/{{eid}}/deliveries")
    def webhook_deliveries(
        self, eid: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[DeliveriesPublic]:
        return ask(DeliveriesPublic, path={"eid": eid}, query={"limit": limit, "cursor": cursor})

    @operation("POST", f"{W}/{{eid}}/events/{{event_id}}/redeliver")
    def redeliver_webhook_event(self, eid: str, event_id: str) -> Call[RedeliveryPublic]:
        return ask(RedeliveryPublic, path={"eid": eid, "event_id": event_id})

    @operation("POST", f"{W}/{{eid}}/redeliver")
    def redeliver_webhook_range(self, eid: str, body: RedeliverRange) -> Call[RedeliveryPublic]:
        return ask(RedeliveryPublic, path={"eid": eid}, body=body)
