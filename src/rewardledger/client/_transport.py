"""How the client sends one operation: the request, its retries, and the answer's parsing.

Owns: ``Call`` (one operation's method, path, body, query and answer model), the retry policy
and its named limits, and the two senders (sync and async) that share them.

Retries: a connection error, a 502, 503 or 504, and a 429 are retried up to
``RETRY_ATTEMPTS_MAX`` attempts in all, waiting ``BACKOFF_BASE_SECONDS * 2**n`` capped at
``BACKOFF_CAP_SECONDS`` with full jitter, or the answer's ``Retry-After`` (at most
``RETRY_AFTER_MAX_SECONDS``). A write is sent with the same ``Idempotency-Key`` on every
attempt (the client makes one when the caller gives none), so a retried write whose first
answer was lost is answered as a replay and never applies twice. A write that has no
idempotency key on the server's side (``Call.safe_to_repeat`` false) is retried only when the
request cannot have reached the server (the connection was refused) or on a 429.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx2
from pydantic import BaseModel

from rewardledger.client.errors import ApiError, problem_error

Model = TypeVar("Model")

RETRY_ATTEMPTS_MAX = 4
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 5.0
RETRY_AFTER_MAX_SECONDS = 30.0
TIMEOUT_SECONDS = 30.0
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The body fields that are a write's idempotency key on the server (one per route).
_BODY_KEYS = ("ref", "reference", "idempotency_key")


class NoContent(BaseModel):
    """The answer of an operation that answers 204 with no body (a deletion)."""


@dataclass(frozen=True, slots=True)
class Call(Generic[Model]):
    """One operation: sent as ``method path`` with ``body`` and ``query``, answered by
    ``answer`` (a pydantic model, or ``bytes`` for an image). ``keyed`` writes take an
    Idempotency-Key header; ``safe_to_repeat`` says a repeat cannot apply twice."""

    method: str
    path: str
    answer: type[Model]
    body: BaseModel | None = None
    query: Mapping[str, Any] = field(default_factory=dict)
    keyed: bool = False
    idempotency_key: str | None = None
    safe_to_repeat: bool = True
    admin: bool = False
    path_params: Mapping[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        """The call's idempotency key: the caller's, else a new one unless the body has one."""
        if not self.keyed:
            return {}
        key = self.idempotency_key
        if key is None and not _body_key(self.body):
            key = f"rlc-{uuid.uuid4().hex}"
        return {} if key is None else {IDEMPOTENCY_HEADER: key}

    def json(self) -> Any:
        return None if self.body is None else self.body.model_dump(mode="json", exclude_unset=True)

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in self.query.items() if v is not None}


def _body_key(body: BaseModel | None) -> bool:
    return body is not None and any(getattr(body, name, None) for name in _BODY_KEYS)


@dataclass(frozen=True, slots=True)
class Retries:
    attempts: int = RETRY_ATTEMPTS_MAX
    base_seconds: float = BACKOFF_BASE_SECONDS
    cap_seconds: float = BACKOFF_CAP_SECONDS

    def delay(self, attempt: int, response: httpx2.Response | None) -> float:
        """Seconds before attempt ``attempt + 1``: Retry-After if given, else jittered backoff."""
        if response is not None:
            after = response.headers.get("Retry-After", "")
            if after.isdigit():
                return min(float(after), RETRY_AFTER_MAX_SECONDS)
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))  # noqa: S311


def _may_retry(call: Call[Any], error: Exception | None, response: httpx2.Response | None) -> bool:
    if response is not None:
        return response.status_code == 429 or (
            call.safe_to_repeat and response.status_code in RETRIED_STATUSES
        )
    if isinstance(error, httpx2.ConnectError):
        return True
    return call.safe_to_repeat and isinstance(error, httpx2.TransportError)


def parse(call: Call[Model], response: httpx2.Response) -> Model:
    """The answer as ``call.answer``, or the problem raised as an ``ApiError``."""
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"code": "http_error", "detail": response.text[:200]}
        if not isinstance(problem, dict):
            problem = {"code": "http_error", "detail": str(problem)[:200]}
        raise problem_error(response.status_code, problem)
    if call.answer is bytes:
        return response.content  # type: ignore[return-value]
    if call.answer is NoContent:
        return NoContent()  # type: ignore[return-value]
    return call.answer.model_validate(response.json())  # type: ignore[attr-defined, no-any-return]


@dataclass
class Auth:
    base_url: str
    api_key: str | None
    admin_token: str | None
    tenant_id: str | None
    retries: Retries

    def headers(self, call: Call[Any]) -> dict[str, str]:
        secret = self.admin_token if call.admin else self.api_key
        bearer = {} if secret is None else {"Authorization": f"Bearer {secret}"}
        return {**bearer, **call.headers()}

    def url(self, call: Call[Any]) -> str:
        """The call's path, with the client's tenant where the route has ``{tid}``."""
        if "{tid}" not in call.path:
            return call.path
        if self.tenant_id is None:
            raise ValueError("This operation needs a tenant: pass tenant_id to the client.")
        return call.path.replace("{tid}", quote(self.tenant_id, safe=""))


def _request(auth: Auth, call: Call[Any], headers: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of one attempt's ``request``: the same on every attempt."""
    return {
        "method": call.method,
        "url": auth.url(call),
        "json": call.json(),
        "params": call.params(),
        "headers": headers,
    }


class _Attempts(Generic[Model]):
    """The attempts at one call, for either sender: the request (the same every time, with one
    idempotency key for all), how many were made, and what the last one's outcome means."""

    def __init__(self, auth: Auth, call: Call[Model]) -> None:
        self.auth = auth
        self.call = call
        self.request = _request(auth, call, auth.headers(call))
        self.made = 0
        self.response: httpx2.Response | None = None

    def settle(self, outcome: httpx2.Response | Exception) -> Model | None:
        """After one more attempt: its answer (or its error raised), or None to try again after
        ``delay()`` seconds."""
        self.made += 1
        self.response = outcome if isinstance(outcome, httpx2.Response) else None
        error = None if isinstance(outcome, httpx2.Response) else outcome
        if self.made < self.auth.retries.attempts and _may_retry(self.call, error, self.response):
            return None
        if self.response is None:
            assert error is not None
            raise error
        return parse(self.call, self.response)

    def delay(self) -> float:
        return self.auth.retries.delay(self.made - 1, self.response)


class SyncSender:
    def __init__(self, auth: Auth, http: httpx2.Client) -> None:
        self.auth = auth
        self.http = http

    def send(self, call: Call[Model]) -> Model:
        attempts = _Attempts(self.auth, call)
        while True:
            try:
                outcome: httpx2.Response | Exception = self.http.request(**attempts.request)
            except httpx2.TransportError as failed:
                outcome = failed
            answer = attempts.settle(outcome)
            if answer is not None:
                return answer
            time.sleep(attempts.delay())


class AsyncSender:
    def __init__(self, auth: Auth, http: httpx2.AsyncClient) -> None:
        self.auth = auth
        self.http = http

    async def send(self, call: Call[Model]) -> Model:
        attempts = _Attempts(self.auth, call)
        while True:
            try:
                outcome: httpx2.Response | Exception = await self.http.request(**attempts.request)
            except httpx2.TransportError as failed:
                outcome = failed
            answer = attempts.settle(outcome)
            if answer is not None:
                return answer
            await asyncio.sleep(attempts.delay())


__all__ = ["ApiError", "AsyncSender", "Auth", "Call", "Retries", "SyncSender", "parse"]
