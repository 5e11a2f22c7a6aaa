"""The reconciliation report of a migration: the old system's figures beside ours.

Owns: comparing, for every user, the old system's materialized ``fact_balance_points.balance``
with the balance of the user's points account in rewardledger (which is the sum of the
migrated rows), and writing every difference to ``reconciliation.csv`` and
``reconciliation.json`` as it is found (flat memory: nothing but counts is kept). A user with
rows but no ``fact_balance_points`` row is a difference too (its old figure is empty). The
seeds' own integrity failures (a balance that is not the sum of its rows) show up here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import IO

from rewardledger.domain.errors import LedgerError, NotFound
from rewardledger.domain.money import format_minor
from rewardledger.domain.points import holder_account_id
from rewardledger.domain.seed_migration import BALANCES, minor_of
from rewardledger.ledger.engine import Ledger
from rewardledger.services.migrate.port import Row
from rewardledger.services.migrate.run import MigrationRun, OnRows

CSV_NAME = "reconciliation.csv"
JSON_NAME = "reconciliation.json"
COLUMNS = ("subject", "id", "figure", "old", "rewardledger", "difference")
SUBJECT_USER = "user"


@dataclass(frozen=True, slots=True)
class Difference:
    """One figure the two systems disagree on; ``old`` is None where the old system has none."""

    subject: str
    id: str
    figure: str
    old: str | None
    rewardledger: str
    difference: str

    def as_row(self) -> dict[str, str | None]:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(slots=True)
class Reconciliation:
    """Per subject kind: how many were compared and how many differ."""

    compared: dict[str, int] = field(default_factory=dict)
    differing: dict[str, int] = field(default_factory=dict)
    csv_path: Path | None = None
    json_path: Path | None = None

    @property
    def difference_count(self) -> int:
        return sum(self.differing.values())


class Skip(Enum):
    """What a row comparison answers for a row that is not one to compare."""

    ROW = "skip"


SKIPPED = Skip.ROW


def difference_of(
    subject: str, identifier: str, figure: str, old: object, ours_minor: int, scale: int
) -> Difference | None:
    """The difference of one figure, or None when the two agree. An old figure that is
    missing is listed empty; one that is not an amount of ``scale`` places is listed as it
    is, with no difference computed (it is never rounded to make it one)."""
    old_minor: int | None = None
    old_text: str | None = None
    if old is not None:
        try:
            old_minor = minor_of(old, scale, figure)
            old_text = format_minor(old_minor, scale)
        except LedgerError:
            old_text = f"{old} (not an amount of {scale} decimal places)"
    if old_minor == ours_minor:
        return None
    unparsed = old is not None and old_minor is None
    gap = "" if unparsed else format_minor(ours_minor - (old_minor or 0), scale)
    return Difference(subject, identifier, figure, old_text, format_minor(ours_minor, scale), gap)


class DifferenceFiles:
    """``reconciliation.csv`` and ``reconciliation.json`` in a folder, written row by row,
    and the ``reconciliation`` that counts what was compared."""

    def __init__(self, folder: Path, tenant_id: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.csv_path, self.json_path = folder / CSV_NAME, folder / JSON_NAME
        self._csv: IO[str] = self.csv_path.open("w", encoding="utf-8", newline="")
        self._json: IO[str] = self.json_path.open("w", encoding="utf-8")
        self._writer = csv.DictWriter(self._csv, fieldnames=COLUMNS)
        self._writer.writeheader()
        self._json.write(f'{{"tenant_id": {json.dumps(tenant_id)}, "differences": [')
        self._first = True
        self.reconciliation = Reconciliation()

    def write(self, difference: Difference) -> None:
        self._writer.writerow(difference.as_row())
        self._json.write(("\n  " if self._first else ",\n  ") + json.dumps(difference.as_row()))
        self._first = False

    def finish(self) -> Reconciliation:
        reconciliation = self.reconciliation
        summary = {"compared": reconciliation.compared, "differing": reconciliation.differing}
        self._json.write(f'\n], "summary": {json.dumps(summary)}}}\n')
        reconciliation.csv_path, reconciliation.json_path = self.csv_path, self.json_path
        return reconciliation

    def __enter__(self) -> DifferenceFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._csv.close()
        self._json.close()


def _ours(ledger: Ledger, tenant_id: str, asset: str, user: str) -> int:
    try:
        account = ledger.get_account(tenant_id, holder_account_id(asset, user))
    except NotFound:
        return 0
    return account.balances.posted


def compare_rows(
    batches: Iterable[Sequence[Row]],
    difference: Callable[[Row], Difference | Skip | None],
    subject: str,
    files: DifferenceFiles,
    *,
    on_rows: OnRows = None,
) -> None:
    """Compare every row of ``batches`` with ``difference`` (None: it agrees, or the row is
    not one to compare, see ``SKIPPED``), write each difference and count them for
    ``subject``; ``on_rows`` is told each batch's size, for a progress display."""
    compared = differing = 0
    for rows in batches:
        for row in rows:
            found = difference(row)
            if found is SKIPPED:
                continue
            compared += 1
            if found is not None:
                differing += 1
                files.write(found)
        if on_rows is not None:
            on_rows(len(rows))
    files.reconciliation.compared[subject] = compared
    files.reconciliation.differing[subject] = differing


def reconcile_users(run: MigrationRun, files: DifferenceFiles, on_rows: OnRows) -> None:
    """Every user of ``fact_balance_points``, then every user with rows but no balance row."""
    scale = run.ledger.get_asset(run.tenant_id, run.asset).scale

    def difference(row: Row) -> Difference | None:
        user = str(row["user_id"])
        ours = _ours(run.ledger, run.tenant_id, run.asset, user)
        return difference_of(
            SUBJECT_USER, user, f"{BALANCES}.balance", row.get("balance"), ours, scale
        )

    source, batch_size = run.source, run.batch_size
    batches = chain(source.balances(batch_size), source.users_without_balance(batch_size))
    compare_rows(batches, difference, SUBJECT_USER, files, on_rows=on_rows)
