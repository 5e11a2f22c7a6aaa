"""Setting up a points programme: points assets with their expiry policy, and reason codes
with their pending and expiry settings.

Owns: ``configure`` (an asset and the seed's reasons), ``update_asset``, the reads of the
points assets, and the reason codes' create, change and reads. Protects: configuring what
exists identically writes nothing; a real difference is refused (``already_exists``) with a
sentence saying what differs and which route or command changes it, and which role may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rewardledger.domain import ids
from rewardledger.domain.errors import AlreadyExists, NotFound
from rewardledger.domain.points import (
    Direction,
    ExpiryPolicy,
    Reason,
    issuance_account_id,
    seed_reasons,
)
from rewardledger.domain.points_requests import AssetExpiry
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.points.catalogue import MANAGED_BY, asset_policy
from rewardledger.services.points.port import store_of
from rewardledger.services.points.views import DEFAULT_ASSET


@dataclass(frozen=True)
class PointsAsset:
    """A points asset: its code, its number of decimals and its expiry policy."""

    code: str
    scale: int
    expiry: ExpiryPolicy
    created: bool = False


def _describe(policy: ExpiryPolicy) -> str:
    if policy.kind.value == "after":
        rounded = "" if policy.rounding.value == "none" else f", rounded to {policy.rounding.value}"
        return f"expire {policy.days} days after activation{rounded}"
    if policy.kind.value == "fixed":
        assert policy.at is not None
        return f"expire at {policy.at.isoformat()}"
    return "never expire"


def configure(
    ledger: Ledger,
    tenant_id: str,
    asset: str = DEFAULT_ASSET,
    *,
    scale: int | None = None,
    expiry: ExpiryPolicy | None = None,
    reasons: Sequence[Reason] = (),
) -> PointsAsset:
    """Make ``asset`` a points asset (created if missing, scale 0 unless given) with its expiry
    policy (none unless given), add the seed's reason codes it lacks and put ``reasons``.

    Configuring what exists identically (or leaving ``scale``/``expiry`` out) writes nothing.
    A different scale or expiry policy is refused with ``already_exists``, saying what differs
    and how to change it (``update_asset``)."""
    ids.asset_code(asset)
    existing = ledger.assets(tenant_id).get(asset)
    if existing is None:
        existing = ledger.create_asset(tenant_id, asset, scale=0 if scale is None else scale)
    elif scale is not None and existing.scale != scale:
        raise AlreadyExists(
            "asset",
            asset,
            ["scale"],
            f"Its scale is {existing.scale} (you sent {scale}) and an asset's scale never "
            "changes: leave the scale out to use it as it is, or configure another asset code.",
        )
    store = store_of(ledger)
    current = store.get_expiry(tenant_id, asset)
    if current is not None and expiry is not None and expiry != current:
        raise AlreadyExists(
            "points asset",
            asset,
            ["expiry"],
            f"Its points {_describe(current)}; you asked that they {_describe(expiry)}. A key "
            f"of role admin changes it with PUT /v1/tenants/{tenant_id}/points/assets/{asset} "
            f"or `rewardledger points set-expiry -t {tenant_id} --asset {asset} ...`; "
            "leave the expiry out to keep it.",
        )
    policy = expiry or current or ExpiryPolicy()
    known = store.reasons(tenant_id)
    wanted = [r for r in seed_reasons() if (r.direction.value, r.code) not in known]
    wanted.extend(r for r in reasons if known.get((r.direction.value, r.code)) != r)
    done = PointsAsset(asset, existing.scale, policy, created=current is None)
    if current is not None and not wanted:
        return done
    ledger.create_account(tenant_id, issuance_account_id(asset), asset=asset, managed_by=MANAGED_BY)

    def use_case(work: UnitOfWork) -> None:
        if current is None:
            store.put_asset(work.unit, tenant_id, AssetExpiry(asset, policy), work.now)
        for reason in wanted:
            store.put_reason(work.unit, tenant_id, reason, work.now)

    ledger.run(tenant_id, use_case)
    return done


def update_asset(ledger: Ledger, tenant_id: str, asset: str, expiry: ExpiryPolicy) -> PointsAsset:
    """Change a points asset's expiry policy; lots earned before keep their expiry."""
    asset_policy(ledger, tenant_id, asset)  # raises its not_found
    store = store_of(ledger)
    setting = AssetExpiry(asset, expiry)
    ledger.run(tenant_id, lambda work: store.put_asset(work.unit, tenant_id, setting, work.now))
    return PointsAsset(asset, ledger.get_asset(tenant_id, asset).scale, expiry)


def points_asset(ledger: Ledger, tenant_id: str, asset: str) -> PointsAsset:
    policy = asset_policy(ledger, tenant_id, asset)
    return PointsAsset(asset, ledger.get_asset(tenant_id, asset).scale, policy)


def points_assets(ledger: Ledger, tenant_id: str) -> list[PointsAsset]:
    """The tenant's points assets, by code."""
    ledger.get_tenant(tenant_id)
    return [
        points_asset(ledger, tenant_id, code) for code in store_of(ledger).points_assets(tenant_id)
    ]


def add_reason(ledger: Ledger, tenant_id: str, reason: Reason) -> Reason:
    """Add (or change) one reason code of the tenant's catalogue."""
    ledger.get_tenant(tenant_id)
    ledger.run(
        tenant_id, lambda work: store_of(ledger).put_reason(work.unit, tenant_id, reason, work.now)
    )
    return reason


def reasons(ledger: Ledger, tenant_id: str) -> list[Reason]:
    """The tenant's reason codes, by direction and code."""
    ledger.get_tenant(tenant_id)
    return sorted(store_of(ledger).reasons(tenant_id).values(), key=lambda r: (r.direction, r.code))


def create_reason(ledger: Ledger, tenant_id: str, reason: Reason) -> tuple[Reason, bool]:
    """Add a reason code: (it, whether it was written). The same settings again write nothing;
    other settings for an existing code are refused with how to change them."""
    existing = store_of(ledger).reasons(tenant_id).get((reason.direction.value, reason.code))
    if existing == reason:
        return reason, False
    if existing is not None:
        differing = [
            f
            for f in ("allow_negative", "pending_seconds", "pending_until_activated", "expiry")
            if getattr(existing, f) != getattr(reason, f)
        ]
        raise AlreadyExists(
            "reason",
            f"{reason.direction.value}/{reason.code}",
            differing,
            f"A key of role admin changes it with PUT /v1/tenants/{tenant_id}/points/reasons/"
            f"{reason.direction.value}/{reason.code} or `rewardledger points reason "
            f"{reason.direction.value} {reason.code} -t {tenant_id} ...`.",
        )
    return add_reason(ledger, tenant_id, reason), True


def reason(ledger: Ledger, tenant_id: str, direction: Direction, code: str) -> Reason:
    ledger.get_tenant(tenant_id)
    ids.reason(code, "dtype")
    found = store_of(ledger).reasons(tenant_id).get((direction.value, code))
    if found is None:
        raise NotFound(
            "reason",
            f"{direction.value}/{code}",
            f"A key of role admin adds it with POST /v1/tenants/{tenant_id}/points/reasons or "
            f"`rewardledger points reason {direction.value} {code} -t {tenant_id}`.",
        )
    return found
