"""Replays of a write: the one comparison that tells a replay from a conflicting reuse.

Owns invariant 7's other half: the same idempotency key with the same request returns the
first result; with any field different it is an ``idempotency_conflict`` naming every field
that differs, in the order the caller compares them.
"""

from __future__ import annotations

from rewardledger.domain.errors import IdempotencyConflict


def check_replay(identifier: str, **same: bool) -> None:
    """Refuse a reuse of ``identifier`` unless every named comparison holds.

    ``check_replay(key, amount=stored.amount_minor == amount_minor, currency=...)``
    """
    differing = [name for name, equal in same.items() if not equal]
    if differing:
        raise IdempotencyConflict(identifier, differing)
