"""Transfers: the requests that move money, the journal rows they become, and the posting rules.

This module is the one place callers import the transfer vocabulary from; each noun lives in
its own module and is re-exported here:

- ``operations``: the two-phase vocabulary (pending / post / void / expire) and the requests;
- ``validation``: stateless bounds on times, timeouts and metadata;
- ``journal``: the journal rows a write becomes, and what a replay must match;
- ``posting_rules``: the pure rules that accept or refuse an operation against locked accounts.

Together they protect invariants 1 (every transfer debits and credits the same amount),
3 (no-negative accounts stay >= 0) and 5 (a pending transfer is resolved at most once). The
database checks 3 and 5 again.
"""

from __future__ import annotations

from rewardledger.domain.journal import (
    JournalEntry,
    PendingRow,
    RefusedRow,
    StoredRefusal,
    Transfer,
    differing_fields,
    request_fields,
)
from rewardledger.domain.operations import (
    DEFAULT_KIND,
    RESOLVED_STATE,
    RESOLVING_PHASES,
    ExpirePending,
    Operation,
    Phase,
    PostPending,
    TransferRequest,
    TransferState,
    VoidPending,
    derived_id,
    operation_id,
)
from rewardledger.domain.posting_rules import (
    Accepted,
    Outcome,
    PendingInfo,
    Refused,
    Resolved,
    evaluate,
)
from rewardledger.domain.validation import (
    check_effective_at,
    check_instant,
    check_metadata,
    check_timeout,
    parse_instant,
)

__all__ = [
    "DEFAULT_KIND",
    "RESOLVED_STATE",
    "RESOLVING_PHASES",
    "Accepted",
    "ExpirePending",
    "JournalEntry",
    "Operation",
    "Outcome",
    "PendingInfo",
    "PendingRow",
    "Phase",
    "PostPending",
    "Refused",
    "RefusedRow",
    "Resolved",
    "StoredRefusal",
    "Transfer",
    "TransferRequest",
    "TransferState",
    "VoidPending",
    "check_effective_at",
    "check_instant",
    "check_metadata",
    "check_timeout",
    "derived_id",
    "differing_fields",
    "evaluate",
    "operation_id",
    "parse_instant",
    "request_fields",
]
