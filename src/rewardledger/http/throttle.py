"""Failed authentication is slowed per client: after ``AUTH_FAILURES_PER_CLIENT_MAX`` failures
from one client address within ``AUTH_FAILURE_WINDOW_SECONDS``, that client is answered 429
``too_many_failed_authentications`` (with ``Retry-After``) until its oldest failure in the
window is older than the window. While throttled, the client's requests are refused before
any key is checked, so a correct key found by guessing cannot be told apart either.

Owns: the per-process record of recent failures. It is in memory and per server process (each
worker of ``serve --workers N`` keeps its own), bounded to ``AUTH_FAILURE_CLIENTS_TRACKED_MAX``
clients: past that, the client whose last failure is oldest is forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from rewardledger.domain.errors import LedgerError
from rewardledger.domain.limits import (
    AUTH_FAILURE_CLIENTS_TRACKED_MAX,
    AUTH_FAILURE_WINDOW_SECONDS,
    AUTH_FAILURES_PER_CLIENT_MAX,
)


class TooManyFailedAuthentications(LedgerError):
    code = "too_many_failed_authentications"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed authentications from this client: more than "
            f"{AUTH_FAILURES_PER_CLIENT_MAX} in {AUTH_FAILURE_WINDOW_SECONDS} seconds. Wait "
            f"{retry_after_seconds} seconds (Retry-After), then send a valid key.",
            retry_after_seconds=retry_after_seconds,
        )


class AuthFailures:
    """Recent failed authentications per client address (thread-safe; routes run in threads)."""

    def __init__(
        self,
        limit: int = AUTH_FAILURES_PER_CLIENT_MAX,
        window_seconds: float = AUTH_FAILURE_WINDOW_SECONDS,
        clients_max: int = AUTH_FAILURE_CLIENTS_TRACKED_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assert limit >= 1
        assert window_seconds > 0
        assert clients_max >= 1
        self.limit = limit
        self.window_seconds = window_seconds
        self.clients_max = clients_max
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, client: str) -> None:
        """Raise ``TooManyFailedAuthentications`` while ``client`` is over the limit."""
        now = self._clock()
        with self._lock:
            recent = self._failures.get(client)
            if recent is None:
                return
            while recent and recent[0] <= now - self.window_seconds:
                recent.popleft()
            if not recent:
                del self._failures[client]
                return
            if len(recent) < self.limit:
                return
            wait = recent[0] + self.window_seconds - now
        raise TooManyFailedAuthentications(max(1, math.ceil(wait)))

    def record(self, client: str) -> None:
        """One more failed authentication from ``client``."""
        now = self._clock()
        with self._lock:
            recent = self._failures.pop(client, None) or deque(maxlen=self.limit)
            recent.append(now)
            self._failures[client] = recent  # the most recent failure is last
            while len(self._failures) > self.clients_max:
                self._failures.popitem(last=False)
