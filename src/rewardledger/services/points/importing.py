"""Importing a points history in the seed's shape (CSV with a header, or JSON lines).

Owns: reading and checking rows at the edge (``parse_row``), cutting them into batches of at
most ``POINTS_IMPORT_BATCH_SIZE``, and writing each batch's plan (``domain.points_import.
plan_import``) in one transaction. Protects: idempotency (a row's transfer id is derived from
its fields, so a second run imports nothing) and flat memory on a file of any length.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import IO, Any

from rewardledger.domain import ids
from rewardledger.domain.errors import LedgerError, ValidationError
from rewardledger.domain.limits import (
    POINTS_IMPORT_BAD_ROWS_LISTED_MAX,
    POINTS_IMPORT_BATCH_SIZE,
    POINTS_IMPORT_FIELD_LENGTH_MAX,
)
from rewardledger.domain.money import parse_positive
from rewardledger.domain.points import (
    KIND_EARN,
    KIND_SPEND,
    Direction,
    ExpiryPolicy,
    Lot,
    Reason,
    deficit_lot_id,
    holder_account_id,
    issuance_account_id,
)
from rewardledger.domain.points_import import (
    ImportPlan,
    ImportPosting,
    ImportRow,
    import_transfer_id,
    plan_import,
)
from rewardledger.domain.points_requests import AssetHolders
from rewardledger.domain.transfers import check_instant
from rewardledger.ledger.bulk import PostingColumns
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.catalogue import MANAGED_BY, asset_policy, check_holder
from rewardledger.services.points.port import PointsStore, store_of
from rewardledger.services.points.views import DEFAULT_ASSET, BadRow, ImportReport

IMPORT_FIELDS = ("user", "accum_type", "dtype", "quantity", "date", "redemption_id")


def read_rows(stream: IO[str], *, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, fields) of a CSV (with a header) or JSON lines file, one at a time."""
    first = stream.readline()
    if fmt is None:
        fmt = "jsonl" if first.lstrip().startswith("{") else "csv"
    if fmt == "jsonl":
        line = 1
        text = first
        while text:
            if text.strip():
                try:
                    value = json.loads(text, parse_float=str)
                except ValueError:
                    value = None
                yield line, value if isinstance(value, dict) else {"__error__": "not a JSON object"}
            text = stream.readline()
            line += 1
        return
    reader = csv.DictReader(_chain(io.StringIO(first), stream), restkey="__extra__")
    for record in reader:
        yield reader.line_num, record  # a new dict per row already


def _chain(*streams: IO[str]) -> Iterator[str]:
    for s in streams:
        yield from s


def parse_row(
    line: int,
    record: Mapping[str, Any],
    scale: int,
    earn_reasons: set[str],
    spend_reasons: set[str],
    occurrence: Callable[[tuple[str, ...]], int],
) -> ImportRow:
    """Check one row of the seed's shape; raise ``ValidationError`` saying what is wrong."""
    if "__error__" in record:
        raise ValidationError(str(record["__error__"]))
    get = record.get
    texts = [
        raw.strip() if type(raw) is str else "" if raw is None else str(raw).strip()
        for raw in map(get, IMPORT_FIELDS)
    ]
    if max(map(len, texts)) > POINTS_IMPORT_FIELD_LENGTH_MAX:
        name = next(n for n, t in zip(IMPORT_FIELDS, texts, strict=True) if len(t) > _LONGEST)
        raise ValidationError(f"{name} is too long.", field=name)
    user, accum_type, dtype, quantity, when, redemption = texts
    holder = check_holder(user or None)
    direction = _DIRECTIONS.get(accum_type)
    if direction is None:
        raise ValidationError("accum_type must be earn or spend.", field="accum_type")
    earn = direction is _EARN
    if dtype not in (earn_reasons if earn else spend_reasons):
        raise ValidationError(
            f"dtype {dtype!r} is not a {accum_type} reason of this tenant.", field="dtype"
        )
    if quantity.startswith(("-", "+")):
        sign, magnitude = (-1 if quantity[0] == "-" else 1), quantity[1:]
    else:
        sign, magnitude = 1, quantity
    minor = _quantity_minor(magnitude, scale)
    if (sign > 0) != earn:
        raise ValidationError(
            "quantity must be positive for earn rows and negative for spend rows.",
            field="quantity",
        )
    date = _date(when)
    signed = sign * minor
    given = str(get("id") or "").strip()
    if given:
        transfer_id = ids.transfer_id(given, "id")
    else:
        # A derived id ("imp." and hex digits) is always a valid transfer id.
        key = (holder, accum_type, dtype, str(signed), date.isoformat(), redemption)
        transfer_id = import_transfer_id(key, occurrence(key))
    return ImportRow(line, holder, direction, dtype, signed, date, redemption or None, transfer_id)


def _date(text: str) -> datetime:
    try:
        date = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError("date must be an ISO 8601 time.", field="date") from error
    if date.tzinfo is None:
        raise ValidationError("date must carry a UTC offset.", field="date")
    check_instant(date, "date")
    return date


_DIRECTIONS = {direction.value: direction for direction in Direction}
_EARN = Direction.EARN
_LONGEST = POINTS_IMPORT_FIELD_LENGTH_MAX


@lru_cache(maxsize=4096)
def _quantity_minor(magnitude: str, scale: int) -> int:
    """A row's quantity without its sign, in minor units (a history repeats a few quantities:
    each is parsed once; a refusal is raised again every time, never remembered)."""
    return parse_positive(magnitude, scale, field="quantity")


class _Occurrences:
    """Identical rows are told apart by their occurrence among rows of the same date: the
    counter is reset when the date changes, so memory stays flat on a file sorted by date."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, ...], int] = {}
        self._date = ""

    def __call__(self, key: tuple[str, ...]) -> int:
        if key[4] != self._date:
            self._counts.clear()
            self._date = key[4]
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]


def import_history(
    ledger: Ledger,
    tenant_id: str,
    stream: IO[str],
    *,
    asset: str = DEFAULT_ASSET,
    skip_bad_rows: bool = False,
    batch_size: int = POINTS_IMPORT_BATCH_SIZE,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load a points history (the seed's rows) in batches, each one transaction.

    Idempotent: a row's transfer id is derived from its fields (or taken from an ``id``
    column), so a second run finds every row and imports nothing. A batch with a bad row loads
    nothing unless ``skip_bad_rows``; either way the bad rows are reported with their lines.
    """
    asset_policy(ledger, tenant_id, asset)
    if not 1 <= batch_size <= POINTS_IMPORT_BATCH_SIZE:
        raise ValidationError(
            f"batch_size must be from 1 to {POINTS_IMPORT_BATCH_SIZE}.", field="batch_size"
        )
    run = _ImportRun(ledger, tenant_id, asset, skip_bad_rows, on_rows)
    occurrence = _Occurrences()
    earn_reasons = {c for d, c in run.catalogue if d == Direction.EARN.value}
    spend_reasons = {c for d, c in run.catalogue if d == Direction.SPEND.value}
    for line, record in read_rows(stream):
        run.report.rows_read += 1
        try:
            run.batch.append(
                parse_row(line, record, run.scale, earn_reasons, spend_reasons, occurrence)
            )
        except LedgerError as error:
            run.batch_bad.append(BadRow(line, error.message))
        if len(run.batch) + len(run.batch_bad) >= batch_size:
            run.flush()
    run.flush()
    return run.report


class _ImportRun:
    """One import's report and the batch being filled."""

    def __init__(
        self,
        ledger: Ledger,
        tenant_id: str,
        asset: str,
        skip_bad_rows: bool,
        on_rows: Callable[[int], None] | None,
    ) -> None:
        self.ledger, self.tenant_id, self.asset = ledger, tenant_id, asset
        self.skip_bad_rows, self.on_rows = skip_bad_rows, on_rows
        self.scale = ledger.get_asset(tenant_id, asset).scale
        self.catalogue = store_of(ledger).reasons(tenant_id)
        self.report = ImportReport()
        self.batch: list[ImportRow] = []
        self.batch_bad: list[BadRow] = []

    def flush(self) -> None:
        refused: list[BadRow] = []
        if self.batch:
            # A batch with a bad row is still planned (to find the spends it could not cover),
            # but loaded only if bad rows are to be skipped.
            imported, present, refused = _import_batch(
                self.ledger,
                self.tenant_id,
                self.asset,
                self.scale,
                self.batch,
                self.catalogue,
                load=self.skip_bad_rows or not self.batch_bad,
                skip_bad_rows=self.skip_bad_rows,
            )
            self.report.imported += imported
            self.report.already_present += present
        bad = sorted([*self.batch_bad, *refused], key=lambda b: b.line)
        self.report.bad_rows += len(bad)
        room = POINTS_IMPORT_BAD_ROWS_LISTED_MAX - len(self.report.bad)
        self.report.bad.extend(bad[: max(room, 0)])
        if bad and not self.skip_bad_rows:
            self.report.batches_skipped += 1
        if self.on_rows is not None:
            self.on_rows(len(self.batch) + len(self.batch_bad))
        self.batch.clear()
        self.batch_bad.clear()


def _import_batch(
    ledger: Ledger,
    tenant_id: str,
    asset: str,
    scale: int,
    rows: Sequence[ImportRow],
    catalogue: Mapping[tuple[str, str], Reason],
    *,
    load: bool,
    skip_bad_rows: bool,
) -> tuple[int, int, list[BadRow]]:
    """One batch in one transaction: (imported, already present, refused rows)."""
    store = store_of(ledger)
    policy = asset_policy(ledger, tenant_id, asset)
    holders = sorted({row.holder_id for row in rows})

    def use_case(work: UnitOfWork) -> tuple[int, int, list[BadRow]]:
        # New holders' accounts are opened in the batch's own transaction, all at once.
        created = store.lock_holders(
            work.unit, tenant_id, AssetHolders(asset, tuple(holders)), work.now
        )
        if created:
            accounts = [holder_account_id(asset, holder) for holder in created]
            work.open_accounts(accounts, asset=asset, managed_by=MANAGED_BY)
        present = store.existing_transfer_ids(work.unit, tenant_id, [r.transfer_id for r in rows])
        if len(present) == len(rows):
            return 0, len(rows), []
        plan = _plan(work, store, asset, rows, holders, present, catalogue, policy)
        refused = [BadRow(line, message) for line, message in plan.refused]
        if not load or (refused and not skip_bad_rows):
            return 0, 0, refused
        _write_plan(work, store, asset, scale, plan)
        imported = len(plan.postings)
        return imported, len(rows) - imported - len(refused), refused

    return ledger.run(tenant_id, use_case)


def _plan(
    work: UnitOfWork,
    store: PointsStore,
    asset: str,
    rows: Sequence[ImportRow],
    holders: Sequence[str],
    present: set[str],
    catalogue: Mapping[tuple[str, str], Reason],
    policy: ExpiryPolicy,
) -> ImportPlan:
    """Read what the batch's plan needs (holders locked), and plan it: spends need their
    holders' lots; earns only need to know of a deficit to pay back."""
    spending = {r.holder_id for r in rows if r.accum_type is Direction.SPEND}
    lots: list[Lot] = store.open_lots(work.unit, work.tenant_id, asset, sorted(spending))
    deficits = [deficit_lot_id(asset, h) for h in holders if h not in spending]
    if deficits:
        lots.extend(store.get_lots(work.unit, work.tenant_id, deficits).values())
    return plan_import(
        rows, asset_code=asset, lots=lots, present=present, reasons=catalogue, policy=policy
    )


def _write_plan(
    work: UnitOfWork, store: PointsStore, asset: str, scale: int, plan: ImportPlan
) -> None:
    if plan.postings:
        work.post_all(_postings(asset, plan.postings))
    store.insert_lots(work.unit, work.tenant_id, list(plan.opened.values()))
    store.update_lots(work.unit, work.tenant_id, list(plan.changed.values()))
    store.insert_moves(work.unit, work.tenant_id, plan.moves, work.now)


def _postings(asset: str, postings: Sequence[ImportPosting]) -> PostingColumns:
    """The batch's transfers as columns: an earn moves points from the issuance account to
    the holder's, a spend back; the amount is the row's quantity without its sign."""
    issued = issuance_account_id(asset)
    holders = [holder_account_id(asset, p.row.holder_id) for p in postings]
    earns = [p.row.accum_type is Direction.EARN for p in postings]
    return PostingColumns(
        asset=asset,
        ids=[p.row.transfer_id for p in postings],
        debit_account_ids=[issued if earn else h for earn, h in zip(earns, holders, strict=True)],
        credit_account_ids=[h if earn else issued for earn, h in zip(earns, holders, strict=True)],
        amounts_minor=[abs(p.row.quantity_minor) for p in postings],
        kinds=[KIND_EARN if earn else KIND_SPEND for earn in earns],
        reasons=[p.row.reason for p in postings],
        effective_at=[p.row.date for p in postings],
        metadata=[p.metadata for p in postings],
    )
