"""The digest of a journal row's content, and the chain that seals the journal.

Owns: the canonical form of a ``transfers`` row (the ``DIGEST_COLUMNS``, in that order;
instants in UTC to the microsecond, JSON with sorted keys) and its SHA-256, written with the
row; the identity of an account (id, asset, no-negative flag, creation instant); and how a
seal chains one segment of the journal onto the previous seal's head.

Protects tamper evidence: a row whose content no longer matches its digest was changed after
it was written; a sealed segment whose rows (or accounts) no longer hash to the seal's digest
lost, gained or changed a row, even one whose digest was recomputed; and a seal head exported
by the operator pins the whole chain up to it, even if the seals table itself was rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

DIGEST_VERSION = b"rewardledger.transfer.1\n"
# The columns a version-1 digest covers, in this order: the ``transfers`` columns before
# ``digest``, as they were when the digest was introduced (migration 0008). Frozen: a column
# added to ``transfers`` later goes after ``digest`` and is not covered until a new
# ``DIGEST_VERSION`` says how rows of each version are hashed, so that rows already written
# keep verifying (a test checks the table against this list).
DIGEST_COLUMNS = (
    "tenant_id",
    "transfer_id",
    "phase",
    "kind",
    "reason",
    "asset_code",
    "amount_minor",
    "debit_account_id",
    "credit_account_id",
    "pending_id",
    "expires_at",
    "effective_at",
    "created_at",
    "cycle_tag",
    "debit_entry_seq",
    "credit_entry_seq",
    "debit_balance_after",
    "credit_balance_after",
    "metadata",
    "error_code",
    "rejection",
)
SEAL_VERSION = b"rewardledger.seal.1\n"


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        if utc.year >= 1000:
            # The same text as the strftime below (``+00:00`` is the last six characters), at
            # about a third of its cost: two of these are in every journal row's digest.
            return utc.isoformat(timespec="microseconds")[:-6] + "Z"
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical(values: Sequence[Any]) -> bytes:
    """The canonical bytes of ``values`` (a row's columns as Python values, in table order)."""
    text = json.dumps(
        list(values), default=_plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return text.encode("ascii")


def row_digest(values: Sequence[Any]) -> bytes:
    """The SHA-256 of a journal row: ``values`` are its columns but ``digest``, in order."""
    return hashlib.sha256(DIGEST_VERSION + canonical(values)).digest()


def _encoder() -> Callable[[Any], str]:
    """``canonical``'s encoding as one encoder built once: ``json.dumps`` builds a new one per
    call (and ``JSONEncoder.encode`` its C encoder per call), which costs more than encoding a
    journal row. The same options, so the same text; without the check for circular values,
    which a journal row cannot hold (metadata is checked acyclic and bounded in depth)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the pure-Python encoder, same options
        return json.JSONEncoder(
            default=_plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode
    # (markers, default, encoder, indent, key and item separators, sort_keys, skipkeys,
    # allow_nan): what ``JSONEncoder.iterencode`` passes for ``canonical``'s options.
    encode = make(
        None, _plain, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
    )

    def text(value: Any) -> str:
        return "".join(encode(value, 0))

    return text


class RowDigests:
    """``row_digest`` for the many rows of one write, with the same bytes: one encoder for
    all rows, and each instant's canonical text computed once (a batch's rows mostly share
    their creation and effective instants). An instant replaced by its ``_plain`` text
    before encoding gives the text ``default=_plain`` would have given; an instant anywhere
    else in a row (there is none in a journal row's JSON) still goes through ``default``."""

    __slots__ = ("_encode", "_instants")

    def __init__(self) -> None:
        self._encode = _encoder()
        self._instants: dict[datetime, str] = {}

    def __call__(self, values: Sequence[Any]) -> bytes:
        plain = list(values)
        instants = self._instants
        for index in _INSTANT_COLUMNS:
            value = plain[index]
            if isinstance(value, datetime):
                text = instants.get(value)
                if text is None:
                    text = instants[value] = str(_plain(value))
                plain[index] = text
        canonical_text = self._encode(plain).encode("ascii")
        return hashlib.sha256(DIGEST_VERSION + canonical_text).digest()


_INSTANT_COLUMNS = tuple(
    DIGEST_COLUMNS.index(name) for name in ("expires_at", "effective_at", "created_at")
)


def account_digest(
    account_id: str, asset_code: str, no_negative: bool, created_at: datetime
) -> bytes:
    """What never changes in an account, hashed: a seal covers the accounts that exist."""
    return hashlib.sha256(
        b"rewardledger.account.1\n" + canonical((account_id, asset_code, no_negative, created_at))
    ).digest()


def genesis(tenant_id: str) -> str:
    """The head before a tenant's first seal."""
    return hashlib.sha256(SEAL_VERSION + tenant_id.encode()).hexdigest()


class Segment:
    """The rows and accounts created in one sealed interval, hashed in (instant, id) order."""

    def __init__(self) -> None:
        self._rows = hashlib.sha256(SEAL_VERSION)
        self._accounts = hashlib.sha256(SEAL_VERSION)
        self.rows = 0
        self.accounts = 0

    def add_row(self, digest: bytes) -> None:
        self._rows.update(digest)
        self.rows += 1

    def add_account(self, digest: bytes) -> None:
        self._accounts.update(digest)
        self.accounts += 1

    def digest(self) -> str:
        summary = f"{self.rows}:{self.accounts}:".encode()
        return hashlib.sha256(
            SEAL_VERSION + summary + self._rows.digest() + self._accounts.digest()
        ).hexdigest()


def chain(previous_head: str, seal_seq: int, cutoff_at: datetime, segment_digest: str) -> str:
    """The head of a seal: the previous head, the seal's number and cut-off, its segment."""
    link = canonical((previous_head, seal_seq, cutoff_at, segment_digest))
    return hashlib.sha256(SEAL_VERSION + link).hexdigest()
