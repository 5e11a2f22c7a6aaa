"""Redemptions (issue 4): spend points for an offer, get a code and its QR, confirm it at a till.

The use cases live in ``rewardledger.services.points.redemptions`` (beside the points they
spend and refund); this module keeps ``from rewardledger.services import redemptions`` working.
"""

from __future__ import annotations

from rewardledger.services.points.redemptions import (
    cancel,
    confirm,
    create,
    expire_due,
    fresh_code,
    get,
    get_by_code,
    list_page,
    qr_png,
    qr_svg,
    run_due,
)
from rewardledger.services.points.views import Redemption

__all__ = [
    "Redemption",
    "cancel",
    "confirm",
    "create",
    "expire_due",
    "fresh_code",
    "get",
    "get_by_code",
    "list_page",
    "qr_png",
    "qr_svg",
    "run_due",
]
