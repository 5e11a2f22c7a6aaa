"""Sending due deliveries: one pass claims what is due, signs each request the Standard
Webhooks way, sends it, and records the attempt and what comes next.

Owns: the request (body, ``webhook-id`` = the event id so receivers de-duplicate,
``webhook-timestamp``, ``webhook-signature`` with one ``v1,`` signature per secret in use),
the pass's concurrency and the outcome of each attempt. Protects:
- writers are never held up: the claim and each attempt's record are short transactions of
  their own, and no transaction is open during an HTTP call;
- a slow or down receiver holds up no other endpoint: each endpoint is served on a thread of
  its own (at most ``WEBHOOK_SEND_CONCURRENCY_MAX`` at once), every call is bounded by the
  timeout, and once a call to an endpoint fails to connect or times out, the rest of its
  deliveries in this pass are put back, untried, due when that one is tried again (so a
  receiver that is down costs each pass one call and one statement, not a claim and a
  release of its whole backlog);
- one worker per attempt: a delivery is sent only while its lease (``WebhookStore.claim_due``)
  covers the call and its record: while the claim's lease has two timeouts left it does
  (nobody can have taken it over), past that the lease is renewed before the send, and a
  delivery whose lease was taken over is not sent;
- every attempt is recorded, and a failed one is retried after an exponential, jittered
  wait (``domain.webhooks.next_attempt_at``) up to ``WEBHOOK_ATTEMPTS_MAX`` tries, then the
  delivery is marked failed (a redelivery starts a new round).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx2
from standardwebhooks import Webhook

from rewardledger.domain.webhooks import (
    WEBHOOK_DELIVERY_PASS_MAX,
    WEBHOOK_ERROR_LENGTH_MAX,
    WEBHOOK_LEASE_SECONDS,
    WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX,
    WEBHOOK_SEND_CONCURRENCY_MAX,
    WEBHOOK_TIMEOUT_SECONDS,
    DeliveryStatus,
    next_attempt_at,
)
from rewardledger.events.webhooks.port import STORE
from rewardledger.events.webhooks.views import (
    ClaimedDelivery,
    DeliveryCounts,
    MadeAttempt,
    Outcome,
)
from rewardledger.ledger.engine import Ledger

logger = logging.getLogger(__name__)

ENVELOPE_VERSION = 1
USER_AGENT = "rewardledger-webhooks/1"


def envelope(tenant_id: str, claimed: ClaimedDelivery) -> bytes:
    """The delivered body: ``{id, type, version, tenant_id, subject_id, occurred_at, data}``
    as compact JSON. The integrator will point this at ``events/envelope.py`` (the shared
    event envelope); until then it is version 1 of the same fields."""
    document = {
        "id": claimed.event_id,
        "type": claimed.event_type,
        "version": ENVELOPE_VERSION,
        "tenant_id": tenant_id,
        "subject_id": claimed.subject_id,
        "occurred_at": claimed.occurred_at.astimezone(UTC).isoformat(),
        "data": dict(claimed.payload or {}),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(
    claimed: ClaimedDelivery, body: bytes, *, signed_at: datetime, now: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers. ``signed_at`` is the wall-clock time of sending (what
    receivers check against their own clock); ``now`` decides which secrets are in use."""
    text = body.decode()
    signatures = [
        Webhook(secret).sign(claimed.event_id, signed_at, text)
        for secret in claimed.endpoint.signing_secrets(now)
    ]
    return {
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send(
    http_client: httpx2.Client,
    tenant_id: str,
    claimed: ClaimedDelivery,
    *,
    now: datetime,
    timeout_seconds: float,
) -> Outcome:
    """POST one delivery and say what came back; never raises for the receiver's faults."""
    body = envelope(tenant_id, claimed)
    headers = signed_headers(claimed, body, signed_at=datetime.now(UTC), now=now)
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    excerpt = b""
    try:
        with http_client.stream(
            "POST",
            claimed.endpoint.url,
            content=body,
            headers=headers,
            timeout=httpx2.Timeout(timeout_seconds),
            follow_redirects=False,
        ) as response:
            status_code = response.status_code
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX:
                    break
    except httpx2.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:WEBHOOK_ERROR_LENGTH_MAX]
    latency_ms = round((time.monotonic() - started) * 1000)
    text = excerpt[:WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX].decode("utf-8", "replace")
    return Outcome(now, status_code, error, latency_ms, text[:WEBHOOK_RESPONSE_EXCERPT_LENGTH_MAX])


class _Pass:
    """One delivery pass of one tenant: the clock it started at, and how to record."""

    def __init__(
        self,
        ledger: Ledger,
        tenant_id: str,
        http_client: httpx2.Client,
        now: datetime,
        timeout_seconds: float,
        lease_seconds: float | None,
    ) -> None:
        self.store = ledger.extension(STORE)
        self.tenant_id = tenant_id
        self.http_client = http_client
        self.started_at = now
        self.started = time.monotonic()
        self.timeout_seconds = timeout_seconds
        chosen = max(WEBHOOK_LEASE_SECONDS, 3 * timeout_seconds)
        self.lease = timedelta(seconds=chosen if lease_seconds is None else lease_seconds)

    def now(self) -> datetime:
        """The pass's clock: its start plus the time it has run."""
        return self.started_at + timedelta(seconds=time.monotonic() - self.started)

    def serve(self, claimed: Sequence[ClaimedDelivery]) -> DeliveryCounts:
        """Send one endpoint's deliveries in feed order; stop at an unreachable receiver."""
        delivered = retrying = failed = 0
        for index, one in enumerate(claimed):
            now = self.now()
            if not self._held_long_enough(now) and not self.store.renew(
                self.tenant_id, one, now + self.lease
            ):
                continue
            outcome = send(
                self.http_client,
                self.tenant_id,
                one,
                now=now,
                timeout_seconds=self.timeout_seconds,
            )
            status, due = self._record(one, outcome)
            delivered += status is DeliveryStatus.DELIVERED
            retrying += status is DeliveryStatus.PENDING
            failed += status is DeliveryStatus.FAILED
            if outcome.status_code is None:  # unreachable: the rest wait for its next try
                rest = claimed[index + 1 :]
                later = due if status is DeliveryStatus.PENDING else None
                self.store.release(self.tenant_id, rest, not_before=later)
                return DeliveryCounts(0, delivered, retrying, failed, len(rest))
        return DeliveryCounts(0, delivered, retrying, failed, 0)

    def _held_long_enough(self, now: datetime) -> bool:
        """Whether the claim's own lease still covers a call and its record (two timeouts
        left): then no other worker can have taken the delivery over, and renewing it would
        only add a write per delivery. Past that, each delivery is renewed before its send."""
        left = self.started_at + self.lease - now
        return left > timedelta(seconds=2 * self.timeout_seconds)

    def _record(
        self, claimed: ClaimedDelivery, outcome: Outcome
    ) -> tuple[DeliveryStatus, datetime]:
        if outcome.succeeded:
            status, due = DeliveryStatus.DELIVERED, outcome.attempted_at
        else:
            later = next_attempt_at(claimed.tries + 1, outcome.attempted_at)
            status = DeliveryStatus.PENDING if later else DeliveryStatus.FAILED
            due = later or outcome.attempted_at
        if not self.store.record_attempt(
            self.tenant_id, MadeAttempt(claimed, outcome, status, due)
        ):
            logger.warning(
                "webhook delivery %s to %s lost its lease during the call; its attempt is "
                "not recorded and the worker that took it over sends it again",
                claimed.event_id,
                claimed.endpoint.endpoint_id,
            )
        return status, due


def deliver_due(
    ledger: Ledger,
    tenant_id: str,
    *,
    http_client: httpx2.Client,
    limit: int = WEBHOOK_DELIVERY_PASS_MAX,
    now: datetime | None = None,
    timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS,
    lease_seconds: float | None = None,
) -> DeliveryCounts:
    """Send the tenant's due deliveries (at most ``limit``) and record every attempt. Each
    delivery is held for ``lease_seconds`` from its send (default: the larger of
    ``WEBHOOK_LEASE_SECONDS`` and three timeouts), which must outlast ``timeout_seconds``."""
    if not 1 <= limit <= WEBHOOK_DELIVERY_PASS_MAX:
        raise ValueError(f"limit must be from 1 to {WEBHOOK_DELIVERY_PASS_MAX}")
    if lease_seconds is not None and lease_seconds <= timeout_seconds:
        raise ValueError("lease_seconds must be more than timeout_seconds")
    started = now or ledger.clock()
    run = _Pass(ledger, tenant_id, http_client, started, timeout_seconds, lease_seconds)
    claimed = run.store.claim_due(
        tenant_id, run.started_at, limit, run.started_at + run.lease, uuid.uuid4().hex
    )
    if not claimed:
        return DeliveryCounts()
    by_endpoint: dict[str, list[ClaimedDelivery]] = {}
    for one in claimed:
        by_endpoint.setdefault(one.endpoint.endpoint_id, []).append(one)
    workers = min(WEBHOOK_SEND_CONCURRENCY_MAX, len(by_endpoint))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks") as pool:
        results = list(pool.map(run.serve, by_endpoint.values()))
    return DeliveryCounts(
        claimed=len(claimed),
        delivered=sum(r.delivered for r in results),
        retrying=sum(r.retrying for r in results),
        failed=sum(r.failed for r in results),
        released=sum(r.released for r in results),
    )
