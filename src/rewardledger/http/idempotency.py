"""The one idempotency convention of every keyed write of HTTP API v1.

Owns: the ``Idempotency-Key`` header and its one body equivalent, ``idempotency_key``; the
older body names each route still takes (``ref``, ``reference``, ``id``; deprecated, kept for
one release); the check that every name sent carries the same key; and how a replay is
answered (200 with ``Idempotent-Replayed: true``, whatever the route). The same key with
another body is ``idempotency_conflict`` (409), raised by the service that keeps the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import Field, StrictStr

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import DERIVED_ID_LENGTH_MAX
from rewardledger.http.fields import TRANSFER_ID_PATH_PATTERN

HEADER = "Idempotency-Key"
BODY_FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=DERIVED_ID_LENGTH_MAX,
        pattern=TRANSFER_ID_PATH_PATTERN,
        description=(
            "This write's idempotency key: the same key again answers the first result (200, "
            "`Idempotent-Replayed: true`); with another body, 409 `idempotency_conflict`. "
            "Equivalent to `idempotency_key` in the body (the same value if both)."
        ),
        examples=["order-7731-earn"],
    ),
]


def key_of(header: str | None, body: Mapping[str, str | None], *, required: bool = True) -> str:
    """The one key sent as the header and/or under the body names ``body`` (canonical name
    first, then deprecated ones), or "" when none was sent and it is not ``required``.

    Names that disagree are a ``validation_error`` naming each value."""
    sent = {f"the {HEADER} header": header} if header is not None else {}
    sent.update({name: value for name, value in body.items() if value is not None})
    if len(set(sent.values())) > 1:
        listed = ", ".join(f"{name} {value!r}" for name, value in sent.items())
        raise ValidationError(
            f"The idempotency key was sent more than once with different values ({listed}). "
            f"Send it once, as the {HEADER} header or as {BODY_FIELD} in the body, or the "
            "same value in each.",
            field=BODY_FIELD,
        )
    if sent:
        return next(iter(sent.values()))
    if required:
        raise ValidationError(
            f"Send an {HEADER} header (or {BODY_FIELD} in the body): this write's idempotency "
            "key, which makes retrying it safe.",
            field=BODY_FIELD,
        )
    return ""


def mark_replay(response: Response, replayed: bool) -> None:
    """Answer a replayed write 200 with ``Idempotent-Replayed: true`` (the first was 201)."""
    if replayed:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"


IdempotencyKeyBody = Annotated[
    StrictStr | None,
    Field(
        max_length=DERIVED_ID_LENGTH_MAX,
        pattern=TRANSFER_ID_PATH_PATTERN,
        description=(
            "This write's idempotency key; the same as the Idempotency-Key header (send "
            "either, or the same value in both)."
        ),
        examples=["setup-2026-12-02-1"],
    ),
]


def key_body_field(retry_makes: str, example: str) -> Any:
    """The schema of a body's ``idempotency_key`` typed by the route itself (an id type),
    described by what a retry with it does not make again (``retry_makes``)."""
    return Field(
        description=f"The same as the Idempotency-Key header: a retry with it {retry_makes}.",
        examples=[example],
    )
