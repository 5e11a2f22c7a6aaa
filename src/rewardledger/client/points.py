"""The client's operations on points and redemptions: earn, spend, activate, balances,
accumulations, expiry forecasts, summaries and their integrity; redemptions, their QR codes,
confirming at a till and cancelling. Earn and spend are idempotent by ``body.reference``."""

from __future__ import annotations

from datetime import datetime

from rewardledger.client._operation import ask, fixed, operation
from rewardledger.client._transport import Call
from rewardledger.http.schemas_points import (
    AccumulationsPublic,
    ActivateCreate,
    ConfirmCreate,
    ExpiringListPublic,
    FixPublic,
    LedgerSummaryListPublic,
    LedgerSummaryPagePublic,
    PointsBalancePublic,
    PointsMoveCreate,
    PointsMovePublic,
    RedemptionCreate,
    RedemptionPagePublic,
    RedemptionPublic,
)

P = "/v1/tenants/{tid}/points"
R = "/v1/tenants/{tid}/redemptions"


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class PointsOperations:
    @operation("POST", f"{P}/{{holder}}/earn")
    def earn(self, holder: str, body: PointsMoveCreate) -> Call[PointsMovePublic]:
        return ask(PointsMovePublic, path={"holder": holder}, body=body)

    @operation("POST", f"{P}/{{holder}}/spend")
    def spend(self, holder: str, body: PointsMoveCreate) -> Call[PointsMovePublic]:
        return ask(PointsMovePublic, path={"holder": holder}, body=body)

    @operation("POST", f"{P}/{{holder}}/activate")
    def activate(self, holder: str, body: ActivateCreate) -> Call[PointsMovePublic]:
        """Activate (or, with ``cancel``, cancel) pending points: not repeated on a lost answer."""
        return ask(PointsMovePublic, path={"holder": holder}, body=body, safe=False)

    @operation("GET", f"{P}/{{holder}}")
    def points_balance(
        self, holder: str, *, asset: str | None = None, at: datetime | None = None
    ) -> Call[PointsBalancePublic]:
        query = {"asset": asset, "at": _instant(at)}
        return ask(PointsBalancePublic, path={"holder": holder}, query=query)

    @operation("GET", f"{P}/{{holder}}/accumulations")
    def accumulations(
        self,
        holder: str,
        *,
        asset: str | None = None,
        accum_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[AccumulationsPublic]:
        query = {
            "asset": asset,
            "accum_type": accum_type,
            "from": _instant(since),
            "to": _instant(until),
            "limit": limit,
            "cursor": cursor,
        }
        return ask(AccumulationsPublic, path={"holder": holder}, query=query)

    @operation("GET", f"{P}/{{holder}}/expiring")
    def expiring(
        self,
        holder: str,
        *,
        asset: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[ExpiringListPublic]:
        """What will expire when, soonest first, a page at a time."""
        query = {"asset": asset, "limit": limit, "cursor": cursor}
        return ask(ExpiringListPublic, path={"holder": holder}, query=query)

    @operation("GET", f"{P}/summary")
    def points_summary(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[LedgerSummaryPagePublic]:
        return ask(LedgerSummaryPagePublic, query={"limit": limit, "cursor": cursor})

    @operation("GET", f"{P}/integrity")
    def points_integrity(
        self, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Call[LedgerSummaryListPublic]:
        """The holders of ``status`` (MISMATCH by default), by asset and holder, a page at a
        time."""
        query = {"status": status, "limit": limit, "cursor": cursor}
        return ask(LedgerSummaryListPublic, query=query)

    points_integrity_fix = fixed("POST", f"{P}/integrity/fix", FixPublic)

    @operation("POST", R)
    def create_redemption(self, body: RedemptionCreate) -> Call[RedemptionPublic]:
        """Spend points for an offer and get a code; idempotent by ``body.reference``."""
        return ask(RedemptionPublic, body=body)

    @operation("POST", f"{R}/confirm")
    def confirm_redemption(self, body: ConfirmCreate) -> Call[RedemptionPublic]:
        """Confirm a code at a till (once: not repeated on a lost answer)."""
        return ask(RedemptionPublic, body=body, safe=False)

    @operation("GET", f"{R}/{{id}}")
    def get_redemption(self, redemption_id: str) -> Call[RedemptionPublic]:
        return ask(RedemptionPublic, path={"id": redemption_id})

    @operation("GET", R)
    def list_redemptions(
        self, *, state: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Call[RedemptionPagePublic]:
        """The tenant's redemptions by id, e.g. ``state="pending"``."""
        return ask(RedemptionPagePublic, query={"state": state, "limit": limit, "cursor": cursor})

    @operation("GET", f"{R}/by-code/{{code}}")
    def get_redemption_by_code(self, code: str) -> Call[RedemptionPublic]:
        return ask(RedemptionPublic, path={"code": code})

    @operation("GET", f"{R}/{{id}}/qr.png")
    def redemption_qr_png(self, redemption_id: str) -> Call[bytes]:
        return ask(bytes, path={"id": redemption_id})

    @operation("GET", f"{R}/{{id}}/qr.svg")
    def redemption_qr_svg(self, redemption_id: str) -> Call[bytes]:
        return ask(bytes, path={"id": redemption_id})

    @operation("POST", f"{R}/{{id}}/cancel")
    def cancel_redemption(self, redemption_id: str) -> Call[RedemptionPublic]:
        return ask(RedemptionPublic, path={"id": redemption_id}, safe=False)
