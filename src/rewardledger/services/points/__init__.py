"""Points wallets (issue 4): earn, spend, earn lots, expiry, pending points, balances,
accumulations, integrity and import.

Owns: the points use cases, each one transaction with its journal transfers (``ledger.run``).
The model of seed 004 built on the core: every ``fact_accumulations`` row is a transfer
between the tenant's points-issuance account (``pts:<ASSET>:@issued``, may go negative) and the
holder's account (``pts:<ASSET>:<holder>``); the holder's balance IS that account's
materialized balance (the seed's ``fact_balance_points``), written in the same transaction as
the row. Beside the journal, every earn is a lot with its remainder; a spend takes from lots
soonest-expiry first, then oldest, and records which (``points_lot_moves``).

Protects: balance == sum of the holder's rows == sum of its lots' remainders; a spend never
takes a balance below zero unless its reason allows it (checked under the holder's lock, and
flagged ``negative_allowed`` on the row); an expiry, an activation and a refund are each
written once, under a derived id.

Modules: ``port`` (PointsStore, STORE), ``views`` (what is returned), ``catalogue`` (the
checks of assets, reasons, holders), ``setup`` (configuring assets and reasons), ``lots``
(in-unit lot steps), ``movements`` (earn, spend, refunds), ``pending`` (activate, cancel),
``reads``, ``lists`` (the pages of assets, reasons, forecasts and integrity), ``jobs``,
``integrity``, ``importing`` and ``redemptions``. This package
re-exports the public names (``points.earn(...)``).
"""

from __future__ import annotations

from rewardledger.services.points.catalogue import (
    asset_policy,
    check_holder,
    open_holder,
    prepare,
    reason_of,
)
from rewardledger.services.points.importing import (
    IMPORT_FIELDS,
    import_history,
    parse_row,
    read_rows,
)
from rewardledger.services.points.integrity import fix, summary, summary_page, validate
from rewardledger.services.points.jobs import run_due
from rewardledger.services.points.lists import (
    ExpiringPage,
    IntegrityPage,
    PointsAssetPage,
    ReasonPage,
    expiring_page,
    integrity_page,
    points_assets_page,
    reasons_page,
)
from rewardledger.services.points.lots import expire_due_lots, moves_as_taken
from rewardledger.services.points.movements import (
    earn,
    give_back_in_unit,
    replayed_spend,
    spend,
    spend_in_unit,
)
from rewardledger.services.points.pending import activate, cancel_pending
from rewardledger.services.points.port import STORE, PointsStore, store_of
from rewardledger.services.points.reads import accumulations, balance, expiring
from rewardledger.services.points.reminders import REMINDERS, remind_expiring
from rewardledger.services.points.setup import (
    PointsAsset,
    add_reason,
    configure,
    create_reason,
    points_asset,
    points_assets,
    reason,
    reasons,
    update_asset,
)
from rewardledger.services.points.views import (
    DEFAULT_ASSET,
    Accumulation,
    AccumulationPage,
    BadRow,
    FixReport,
    HolderIntegrity,
    ImportReport,
    PointsBalance,
    PointsMovement,
    Redemption,
)

__all__ = [
    "DEFAULT_ASSET",
    "IMPORT_FIELDS",
    "REMINDERS",
    "STORE",
    "Accumulation",
    "AccumulationPage",
    "BadRow",
    "ExpiringPage",
    "FixReport",
    "HolderIntegrity",
    "ImportReport",
    "IntegrityPage",
    "PointsAsset",
    "PointsAssetPage",
    "PointsBalance",
    "PointsMovement",
    "PointsStore",
    "ReasonPage",
    "Redemption",
    "accumulations",
    "activate",
    "add_reason",
    "asset_policy",
    "balance",
    "cancel_pending",
    "check_holder",
    "configure",
    "create_reason",
    "earn",
    "expire_due_lots",
    "expiring",
    "expiring_page",
    "fix",
    "give_back_in_unit",
    "import_history",
    "integrity_page",
    "moves_as_taken",
    "open_holder",
    "parse_row",
    "points_asset",
    "points_assets",
    "points_assets_page",
    "prepare",
    "read_rows",
    "reason",
    "reason_of",
    "reasons",
    "reasons_page",
    "remind_expiring",
    "replayed_spend",
    "run_due",
    "spend",
    "spend_in_unit",
    "store_of",
    "summary",
    "summary_page",
    "update_asset",
    "validate",
]
