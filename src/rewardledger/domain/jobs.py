"""Due jobs' records: a step of one tenant's due work that failed, as the operator lists it.

Owns: ``JobFailure`` (one failure of one step while it lasts: how often it was tried, the
last error), ``FailureQuery`` (which of them to list) and ``describe``, the one-line code and
message an error is recorded under.
Protects: a step has at most one open failure per tenant; it is resolved, not deleted, by
the first run in which the step succeeds again, so the operator can still see it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rewardledger.domain.errors import LedgerError
from rewardledger.domain.limits import JOB_FAILURE_MESSAGE_LENGTH_MAX

# The code of a failure that is not a rewardledger error: a bug (docs/errors.md).
INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class JobFailure:
    failure_id: str
    tenant_id: str
    step: str
    code: str
    message: str
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class FailureQuery:
    """Which of a tenant's failures to list, the latest first by (last_failed_at, failure_id):
    at most ``limit``, strictly before the keyset position ``before``; open ones only unless
    ``include_resolved``; only ``step``'s, only those that failed at or after ``since``, when
    given."""

    include_resolved: bool
    limit: int
    step: str | None = None
    since: datetime | None = None
    before: tuple[datetime, str] | None = None


def describe(error: Exception) -> tuple[str, str]:
    """(code, message) of a step's error: a rewardledger error's own, else ``internal_error``
    and the exception's type and text; on one line, at most JOB_FAILURE_MESSAGE_LENGTH_MAX."""
    if isinstance(error, LedgerError):
        code, message = error.code, error.message
    else:
        code, message = INTERNAL_ERROR, f"{type(error).__name__}: {error}"
    one_line = " ".join(message.split()) or type(error).__name__
    if len(one_line) > JOB_FAILURE_MESSAGE_LENGTH_MAX:
        one_line = one_line[: JOB_FAILURE_MESSAGE_LENGTH_MAX - 3] + "..."
    return code, one_line
