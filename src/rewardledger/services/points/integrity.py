"""Points integrity: per holder, materialized balance vs the sum of its rows vs the sum of its
lots (the seed's ``v_ledger_summary`` and ``validate_balance_integrity``), and the repair.

Owns: the third check of the points invariant (rule 8): read in chunks of
``INTEGRITY_CHUNK_SIZE`` holders, at most ``REPORT_DISCREPANCIES_MAX`` lines listed.
"""

from __future__ import annotations

from rewardledger.domain.limits import INTEGRITY_CHUNK_SIZE, PAGE_SIZE_MAX, REPORT_DISCREPANCIES_MAX
from rewardledger.domain.money import Amount
from rewardledger.domain.paging import decode_cursor, encode_cursor
from rewardledger.domain.points import holder_account_id
from rewardledger.ledger.engine import Ledger
from rewardledger.services.points.port import store_of
from rewardledger.services.points.views import FixReport, HolderIntegrity


def validate(ledger: Ledger, tenant_id: str) -> list[HolderIntegrity]:
    """Holders whose materialized balance differs from their rows or their lots (the seed's
    ``validate_balance_integrity``); at most REPORT_DISCREPANCIES_MAX are listed."""
    return [line for line in summaries(ledger, tenant_id, None) if line.integrity_status != "OK"][
        :REPORT_DISCREPANCIES_MAX
    ]


def check(ledger: Ledger, tenant_id: str) -> tuple[int, int, list[HolderIntegrity]]:
    """Every holder checked (the daily reconciliation's points part), a page at a time: how
    many there are, how many differ from their rows or their lots, and the first
    REPORT_DISCREPANCIES_MAX of those."""
    checked = differing = 0
    listed: list[HolderIntegrity] = []
    after: str | None = None
    while True:  # a tenant's holders are never all in memory at once
        lines = summaries(ledger, tenant_id, PAGE_SIZE_MAX, after)
        found = [line for line in lines if line.integrity_status != "OK"]
        checked += len(lines)
        differing += len(found)
        listed += found[: REPORT_DISCREPANCIES_MAX - len(listed)]
        if len(lines) < PAGE_SIZE_MAX:
            return checked, differing, listed
        after = holders_after(*holder_key(lines[-1]))


def holder_key(line: HolderIntegrity) -> tuple[str, str]:
    """The (asset, holder) the holders are walked by, of one line."""
    return line.asset, line.user_id


def holders_after(asset: str, holder: str) -> str:
    """The position of the walk of the holders just after (asset, holder)."""
    return f"{asset}\x1f{holder}"


def holders_after_cursor(cursor: str | None) -> str | None:
    """The position a cursor of (asset, holder) continues from; None for the first page."""
    if cursor is None:
        return None
    asset, holder = decode_cursor(cursor, str, str)
    return holders_after(str(asset), str(holder))


def summary(ledger: Ledger, tenant_id: str, *, limit: int = PAGE_SIZE_MAX) -> list[HolderIntegrity]:
    """Per holder: earned, spent, expired, balance, rows and integrity status (the seed's
    ``v_ledger_summary``)."""
    return summaries(ledger, tenant_id, limit)


def summary_page(
    ledger: Ledger, tenant_id: str, *, limit: int = PAGE_SIZE_MAX, cursor: str | None = None
) -> tuple[list[HolderIntegrity], str | None]:
    """One page of ``summary`` by (asset, holder), after ``cursor``: (lines, next_cursor)."""
    lines = summaries(ledger, tenant_id, limit, holders_after_cursor(cursor))
    if len(lines) < limit:
        return lines, None
    return lines, encode_cursor(*holder_key(lines[-1]))


def summaries(
    ledger: Ledger, tenant_id: str, limit: int | None, after: str | None = None
) -> list[HolderIntegrity]:
    ledger.get_tenant(tenant_id)
    store = store_of(ledger)
    lines: list[HolderIntegrity] = []
    while True:
        # a page of ``limit`` lines reads no more holders than it shows (one line each)
        chunk = INTEGRITY_CHUNK_SIZE if limit is None else min(INTEGRITY_CHUNK_SIZE, limit)
        page = store.holders(tenant_id, after, chunk)
        if not page:
            break
        after = holders_after(*page[-1])
        by_asset: dict[str, list[str]] = {}
        for asset, holder in page:
            by_asset.setdefault(asset, []).append(holder)
        for asset, holders in by_asset.items():
            scale = ledger.get_asset(tenant_id, asset).scale
            account_ids = [holder_account_id(asset, h) for h in holders]
            sums = store.holder_sums(tenant_id, account_ids)
            lot_sums = store.lot_sums(tenant_id, asset, holders)
            for holder, account_id in zip(holders, account_ids, strict=True):
                s = sums[account_id]
                lines.append(
                    HolderIntegrity(
                        holder,
                        asset,
                        Amount(s["earned"], scale),
                        Amount(s["spent"], scale),
                        Amount(s["expired"], scale),
                        Amount(s["materialized"], scale),
                        Amount(s["earned"] - s["spent"] - s["expired"], scale),
                        Amount(lot_sums.get(holder, 0), scale),
                        s["rows"],
                    )
                )
                if limit is not None and len(lines) >= limit:
                    return lines
        if len(page) < chunk:
            break
    return lines


def fix(ledger: Ledger, tenant_id: str, *, actor: str) -> FixReport:
    """Rebuild materialized balances from the rows, recording every change (the seed's
    ``fix_balance_discrepancies``); list what still differs from the lots."""
    report = ledger.repair(tenant_id, actor=actor)
    return FixReport(report, validate(ledger, tenant_id))
