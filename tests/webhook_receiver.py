"""Webhook tests' helpers. A real HTTP receiver: a small ``http.server`` on a thread of the
test, on a free local port, that keeps every request it got (headers, body, when) and answers
from a script (status codes in turn, then ``then``, after an optional delay); it may hold the
first request for one event open (``hold_event_id``) until the test lets it go. And a fan-out
that waits for the event feed to pass the tenant's last event."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import text

from rewardledger.events import STORE as EVENTS
from rewardledger.events import FeedPosition
from rewardledger.events.webhooks import SINK, fan_out
from rewardledger.ledger.engine import Ledger
from tests.conftest import owner_engine

FEED_WAIT_SECONDS = 30
HOLD_SECONDS_MAX = 120


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at_monotonic: float

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    def document(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(
        self,
        answers: list[int] | None = None,
        *,
        then: int = 200,
        delay_seconds: float = 0.0,
        hold_event_id: str | None = None,
    ) -> None:
        self.requests: list[Received] = []
        self.hold_event_id = hold_event_id
        self.holding = threading.Event()  # set once the held request has arrived
        self.let_go = threading.Event()
        self._answers = deque(answers or [])
        self._then = then
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                received = Received(
                    {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
                )
                status = receiver._take(received)
                if receiver._to_hold(received):
                    receiver.let_go.wait(HOLD_SECONDS_MAX)
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    self.end_headers()
                    self.wfile.write(f"answered {status}".encode())
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def _take(self, received: Received) -> int:
        with self._lock:
            self.requests.append(received)
            return self._answers.popleft() if self._answers else self._then

    def _to_hold(self, received: Received) -> bool:
        with self._lock:
            if received.event_id != self.hold_event_id or self.holding.is_set():
                return False
            self.holding.set()
            return True

    def event_ids(self) -> list[str]:
        with self._lock:
            return [r.event_id for r in self.requests]


@contextmanager
def receiving(
    answers: list[int] | None = None,
    *,
    then: int = 200,
    delay_seconds: float = 0.0,
    hold_event_id: str | None = None,
) -> Iterator[Receiver]:
    receiver = Receiver(
        answers, then=then, delay_seconds=delay_seconds, hold_event_id=hold_event_id
    )
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.let_go.set()
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(10)


def last_place(ledger: Ledger, tenant_id: str) -> FeedPosition:
    """The feed place of the tenant's last event, read directly from the outbox."""
    with owner_engine(ledger).connect() as connection:
        txid, position = connection.execute(
            text(
                "SELECT txid, position FROM outbox WHERE tenant_id = :t "
                "ORDER BY txid DESC, position DESC LIMIT 1"
            ),
            {"t": tenant_id},
        ).one()
    return FeedPosition(txid, position)


def fan_out_everything(ledger: Ledger, tenant_id: str) -> None:
    """Fan out every event the tenant has. On PostgreSQL the feed holds back events until
    every older transaction of the server has ended (other sessions may be writing), so
    this waits, boundedly, until the webhooks sink has passed the last one."""
    last = last_place(ledger, tenant_id)
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    while time.monotonic() < deadline:
        fan_out(ledger, tenant_id, batch_size=500)
        place = ledger.extension(EVENTS).sink_positions(tenant_id).get(SINK)
        if place is not None and place >= last:
            return
        time.sleep(0.05)
    raise AssertionError("the feed did not catch up: a transaction of the server is stuck")
