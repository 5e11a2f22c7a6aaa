"""Webhooks: a tenant's endpoints, the fan-out of the event feed into deliveries, and the
passes that send them, signed as the Standard Webhooks specification says.

Owns: ``endpoints`` (add, list, update, remove, rotate, list deliveries), ``fanout`` (the
"webhooks" sink of the feed, and redelivery on demand) and ``delivery`` (sending what is due,
with retries). Protects: at least once, in order per (endpoint, subject), each request
carrying the event id; a slow or down receiver blocks neither writes nor other endpoints.
docs/webhooks.md is the user's page.
"""

from rewardledger.events.webhooks.delivery import deliver_due, envelope, signed_headers
from rewardledger.events.webhooks.endpoints import (
    add_endpoint,
    get_endpoint,
    list_deliveries,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
    update_endpoint,
)
from rewardledger.events.webhooks.fanout import SINK, fan_out, redeliver_event, redeliver_range
from rewardledger.events.webhooks.port import STORE, WebhookStore
from rewardledger.events.webhooks.views import (
    Attempt,
    Delivery,
    DeliveryCounts,
    DeliveryPage,
    Endpoint,
    EndpointPage,
    EndpointWithSecret,
    RedeliverReport,
)

__all__ = [
    "SINK",
    "STORE",
    "Attempt",
    "Delivery",
    "DeliveryCounts",
    "DeliveryPage",
    "Endpoint",
    "EndpointPage",
    "EndpointWithSecret",
    "RedeliverReport",
    "WebhookStore",
    "add_endpoint",
    "deliver_due",
    "envelope",
    "fan_out",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "redeliver_event",
    "redeliver_range",
    "remove_endpoint",
    "rotate_secret",
    "signed_headers",
    "update_endpoint",
]
