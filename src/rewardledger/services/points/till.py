"""What a till reads before it confirms: the redemption a code stands for.

Owns: looking a redemption up by its code (normalised as ``redemptions.confirm`` does), so the
merchant sees what it is for, and in which state, before confirming it once. Confirming stays
``redemptions.confirm``'s: this module writes nothing.
"""

from __future__ import annotations

from rewardledger.domain.errors import NotFound
from rewardledger.domain.points import normalise_code
from rewardledger.ledger.engine import Ledger
from rewardledger.services.points.port import store_of
from rewardledger.services.points.redemptions import _of as redemption_of
from rewardledger.services.points.views import Redemption


def find_by_code(ledger: Ledger, tenant_id: str, code: str) -> Redemption:
    """The redemption of ``code`` in ``tenant_id``, whatever its state; else ``not_found``."""
    wanted = normalise_code(code)
    ledger.get_tenant(tenant_id)
    row = store_of(ledger).get_redemption(None, tenant_id, code=wanted)
    if row is None:
        raise NotFound("redemption code", wanted)
    return redemption_of(row, ledger.get_asset(tenant_id, row["asset_code"]).scale)
