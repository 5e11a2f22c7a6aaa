"""rewardledger's Python client: ``Client`` (sync) and ``AsyncClient`` over httpx2.

Every operation of the HTTP API is one method, typed with the server's own request and answer
schemas (``rewardledger.http.schemas*``). An error answer raises an ``ApiError`` carrying the
problem's ``code``, ``status`` and ``detail`` (and the domain error class of its code, where
there is one). Writes are retried with the same Idempotency-Key (see ``client._transport``).
See docs/client.md.
"""

from rewardledger.client._clients import PAGES_FOLLOWED_MAX, AsyncClient, Client
from rewardledger.client._operation import Operation
from rewardledger.client._transport import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    RETRY_AFTER_MAX_SECONDS,
    RETRY_ATTEMPTS_MAX,
    NoContent,
    Retries,
)
from rewardledger.client.errors import ApiError, error_class

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "PAGES_FOLLOWED_MAX",
    "RETRY_AFTER_MAX_SECONDS",
    "RETRY_ATTEMPTS_MAX",
    "ApiError",
    "AsyncClient",
    "Client",
    "NoContent",
    "Operation",
    "Retries",
    "error_class",
]
