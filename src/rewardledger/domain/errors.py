"""Every error a caller of rewardledger can receive, with a stable machine-readable code.

Owns: the exception tree and the codes. Protects: the promise that a caller can branch on
``error.code`` (a string that never changes meaning) instead of on message text.

    LedgerError               code
    ├── ValidationError       validation_error      the request itself is malformed
    ├── NotFound              not_found             a tenant, asset, account or transfer is missing
    ├── Unauthorized          unauthorized          no credential, or one that is not valid
    ├── Forbidden             forbidden             a valid credential without the right role
    ├── IdempotencyConflict   idempotency_conflict  the id was used for a different request
    ├── AlreadyExists         already_exists        the id is taken, with other attributes
    ├── Busy                  busy                  retries on contention were exhausted
    ├── DatabaseUnavailable   database_unavailable  the database cannot be reached or opened
    ├── UnsafeInterpreter     unsafe_interpreter    Python runs with -O, which strips assertions
    ├── ProgramNotConfigured  program_not_configured  no cashback/debt programme set up yet
    ├── CycleNotClosed        cycle_not_closed      cashback of an open cycle cannot be applied
    ├── InsufficientPoints    insufficient_points   a spend above the spendable points
    ├── AlreadyRedeemed       already_redeemed      a redemption code confirmed a second time
    ├── InvalidRedemptionState invalid_redemption_state  cancel/confirm in the wrong state
    ├── PointsNotPending      points_not_pending    activate/cancel of points not pending
    └── Rejection             (the ledger's rules refused a well-formed write; kept for replays)
        ├── InsufficientFunds     insufficient_funds
        ├── CurrencyMismatch      currency_mismatch
        ├── AccountNotFound       not_found
        ├── NotPending            not_pending
        ├── ExceedsPendingAmount  exceeds_pending_amount
        ├── BalanceOverflow       balance_overflow
        ├── BatchFailed           batch_failed
        ├── ManagedAccount        managed_account       a raw transfer onto a service's account
        ├── HardCapExceeded       hard_cap_exceeded     (budgets)
        ├── MemberCapExceeded     member_cap_exceeded   (budgets)
        └── AlreadyCharged        already_charged       (budgets)

Nothing here knows about HTTP: ``rewardledger.http.problems`` maps codes to statuses.
A rejection is a result, not a crash: it is recorded under the request's id so that a replay
of the same request fails the same way (invariant 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class LedgerError(Exception):
    """Root of every error rewardledger raises on purpose.

    ``code`` is stable; ``message`` is a sentence that says what to do; ``context`` carries the
    typed details (field names, ids, amounts as decimal strings) a client can act on.
    """

    code: ClassVar[str] = "ledger_error"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = context

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.context}


class ValidationError(LedgerError):
    """The request is malformed; nothing was looked up or written."""

    code = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[Mapping[str, Any]] | None = None,
    ) -> None:
        context: dict[str, Any] = {}
        if field is not None:
            context["field"] = field
        if errors is not None:
            context["errors"] = list(errors)
        super().__init__(message, **context)


class NotFound(LedgerError):
    code = "not_found"

    def __init__(self, kind: str, identifier: str, hint: str = "") -> None:
        message = f"No {kind} {identifier!r} exists."
        if hint:
            message += f" {hint}"
        super().__init__(message, resource=kind, id=identifier)


class Unauthorized(LedgerError):
    code = "unauthorized"


class Forbidden(LedgerError):
    code = "forbidden"


class IdempotencyConflict(LedgerError):
    """The id (idempotency key) was first used for a request with other values."""

    code = "idempotency_conflict"

    def __init__(self, identifier: str, fields: list[str]) -> None:
        listed = ", ".join(fields)
        super().__init__(
            f"The id {identifier!r} was already used for a request with a different {listed}. "
            "Resend the original request to get its result, or use a new id for a new request.",
            id=identifier,
            fields=fields,
        )


def with_article(noun: str) -> str:
    """``noun`` with "a" or "an" before it, by its first letter: "an asset", "a budget"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


class AlreadyExists(LedgerError):
    code = "already_exists"

    def __init__(self, kind: str, identifier: str, fields: list[str], hint: str = "") -> None:
        listed = ", ".join(fields)
        differing = f" with a different {listed}" if fields else ""
        super().__init__(
            f"{with_article(kind).capitalize()} {identifier!r} already exists{differing}. "
            + (hint or f"Choose another id, or send the existing {kind}'s values."),
            resource=kind,
            id=identifier,
            fields=fields,
        )


class Busy(LedgerError):
    code = "busy"

    def __init__(self, attempts: int) -> None:
        super().__init__(
            f"The write conflicted with concurrent writes {attempts} times in a row and was not "
            "applied. Retry it with the same id; it is safe to repeat.",
            attempts=attempts,
        )


class DatabaseUnavailable(LedgerError):
    code = "database_unavailable"

    def __init__(self, where: str, reason: str, hint: str) -> None:
        super().__init__(f"Could not open the database at {where}: {reason}. {hint}", where=where)


class UnsafeInterpreter(LedgerError):
    code = "unsafe_interpreter"

    def __init__(self) -> None:
        super().__init__(
            "rewardledger refuses to run under `python -O`: that strips the assertions that "
            "guard the ledger's invariants. Run it without -O (and without PYTHONOPTIMIZE)."
        )


class Rejection(LedgerError):
    """A well-formed write that the ledger's rules refused. It moved nothing.

    Rejections are recorded under the request's id, so a replay returns the same rejection even
    if the accounts have changed since (unless ``recorded`` is false).
    """

    code = "rejected"
    recorded: ClassVar[bool] = True


class InsufficientFunds(Rejection):
    code = "insufficient_funds"


class CurrencyMismatch(Rejection):
    code = "currency_mismatch"


class AccountNotFound(Rejection):
    code = "not_found"


class NotPending(Rejection):
    code = "not_pending"


class ExceedsPendingAmount(Rejection):
    code = "exceeds_pending_amount"


class BalanceOverflow(Rejection):
    code = "balance_overflow"


class BatchFailed(Rejection):
    code = "batch_failed"


class ManagedAccount(Rejection):
    """A raw core transfer names an account a service manages (a points wallet, a budget's
    account, a debt account...); the message names the service call that moves it.

    Not recorded: the id may be one the service derives for its own write (the post of a
    budget reservation's hold), which a recorded refusal would then block. Sent again, the
    request is refused again, as the account stays managed."""

    code = "managed_account"
    recorded = False


# Cycles ----


class ProgramNotConfigured(LedgerError):
    """A cashback or debt movement was sent before the tenant set up that programme."""

    code = "program_not_configured"

    def __init__(self, program: str) -> None:
        super().__init__(
            f"The tenant has no {program} programme yet. Set it first with "
            f"PUT /v1/tenants/{{tid}}/{program}/program (or `rewardledger {program} program`).",
            program=program,
        )


class CycleNotClosed(LedgerError):
    """Cashback of a cycle that is still open (or in its grace period) cannot be applied."""

    code = "cycle_not_closed"

    def __init__(self, account_id: str, cycle_tag: str, closes_at: str) -> None:
        super().__init__(
            f"The cashback cycle {cycle_tag} of account {account_id!r} closes at {closes_at}; "
            "apply its cashback to debt after that.",
            account_id=account_id,
            cycle_tag=cycle_tag,
            closes_at=closes_at,
        )


# Budgets ----


class HardCapExceeded(Rejection):
    """A reserve would bring the budget's used amount above its hard cap (invariant 4)."""

    code = "hard_cap_exceeded"


class MemberCapExceeded(Rejection):
    """A reserve would pass the budget's per-member amount or count cap for the period."""

    code = "member_cap_exceeded"


class AlreadyCharged(Rejection):
    """The reservation was charged already; it cannot be charged again or released."""

    code = "already_charged"


# Points ----


class InsufficientPoints(LedgerError):
    """A spend larger than the holder's spendable points; nothing was written."""

    code = "insufficient_points"


class AlreadyRedeemed(LedgerError):
    """The redemption code was confirmed already; it is valid once."""

    code = "already_redeemed"


class InvalidRedemptionState(LedgerError):
    """The redemption is not in a state that allows this transition (cancelled, expired...)."""

    code = "invalid_redemption_state"


class PointsNotPending(LedgerError):
    """Activate or cancel named earned points that are not pending (any more)."""

    code = "points_not_pending"


REJECTIONS_BY_CODE: dict[str, type[Rejection]] = {
    cls.code: cls
    for cls in (
        InsufficientFunds,
        CurrencyMismatch,
        AccountNotFound,
        NotPending,
        ExceedsPendingAmount,
        BalanceOverflow,
        BatchFailed,
        ManagedAccount,
    )
}


def rejection_from_record(code: str, message: str, context: Mapping[str, Any]) -> Rejection:
    """Rebuild the rejection stored with a journal row, for a replay."""
    cls = REJECTIONS_BY_CODE.get(code, Rejection)
    return cls(message, **dict(context))


# Signals from storage to the engine. Not LedgerErrors: callers never see them.


class DuplicateIdError(Exception):
    """A write hit an id that already exists in the journal (a replay, or a concurrent twin)."""


class RetryableError(Exception):
    """The database asked for the transaction to be retried (deadlock, serialization, busy)."""
