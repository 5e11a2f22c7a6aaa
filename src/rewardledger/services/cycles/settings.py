"""The tenant's refresh mode of the cycle ledgers: ``inline`` or ``job``.

Owns: choosing when ``cashback_ledger`` and ``debt_ledger`` rows are recomputed. Protects: the
mode is read inside each writing unit, so a change applies from the next transaction on.
"""

from __future__ import annotations

from rewardledger.domain.cycles import RefreshMode
from rewardledger.domain.errors import ValidationError
from rewardledger.ledger.engine import Ledger
from rewardledger.services.cycles.port import store_of


def set_refresh_mode(ledger: Ledger, tenant_id: str, mode: str) -> RefreshMode:
    """``inline``: rows are recomputed in the writing transaction; ``job``: by a refresh."""
    try:
        chosen = RefreshMode(mode)
    except ValueError:
        raise ValidationError(
            'refresh_mode must be "inline" or "job".', field="refresh_mode"
        ) from None
    store = store_of(ledger)
    ledger.run(tenant_id, lambda work: store.put_refresh_mode(work.unit, chosen, work.now))
    return chosen


def refresh_mode(ledger: Ledger, tenant_id: str) -> RefreshMode:
    ledger.get_tenant(tenant_id)
    return store_of(ledger).get_refresh_mode(tenant_id)
