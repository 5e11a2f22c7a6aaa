"""The package's public surface: what ``import rewardledger`` promises stays exactly this."""

from __future__ import annotations

import importlib

import rewardledger

PUBLIC_NAMES = [
    "Amount",
    "IdempotencyConflict",
    "InsufficientFunds",
    "Ledger",
    "LedgerError",
    "NotFound",
    "NotPending",
    "PostPending",
    "Rejection",
    "Transfer",
    "TransferRequest",
    "TransferResult",
    "TransferState",
    "ValidationError",
    "VoidPending",
]


def test_the_public_names_are_exactly_todays_list() -> None:
    assert rewardledger.__all__ == PUBLIC_NAMES


def test_every_public_name_is_importable_from_the_package() -> None:
    for name in PUBLIC_NAMES:
        assert getattr(rewardledger, name) is not None, name
    module = importlib.import_module("rewardledger")
    assert all(hasattr(module, name) for name in PUBLIC_NAMES)


def test_a_ledger_is_opened_with_ledger_open() -> None:
    assert callable(rewardledger.Ledger.open)
