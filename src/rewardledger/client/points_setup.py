"""The client's operations on a points programme's set-up: points assets and their expiry
policies, and reason codes (dtypes) with their settings (docs/points.md)."""

from __future__ import annotations

from rewardledger.client._operation import ask, keyed, operation
from rewardledger.client._transport import Call
from rewardledger.http.schemas_points_setup import (
    PointsAssetListPublic,
    PointsAssetPublic,
    PointsAssetUpdate,
    PointsConfigure,
    ReasonCreate,
    ReasonListPublic,
    ReasonPublic,
    ReasonSettings,
)

P = "/v1/tenants/{tid}/points"


class PointsSetupOperations:
    @operation("POST", f"{P}/configure")
    def configure_points(
        self, body: PointsConfigure, *, idempotency_key: str | None = None
    ) -> Call[PointsAssetPublic]:
        """Make an asset a points asset; the same settings again change nothing."""
        return keyed(PointsAssetPublic, body, idempotency_key)

    @operation("GET", f"{P}/assets")
    def points_assets(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[PointsAssetListPublic]:
        """The points assets by code, a page at a time (``Client.pages`` follows the cursor)."""
        return ask(PointsAssetListPublic, query={"limit": limit, "cursor": cursor})

    @operation("GET", f"{P}/assets/{{asset}}")
    def points_asset(self, asset: str) -> Call[PointsAssetPublic]:
        return ask(PointsAssetPublic, path={"asset": asset})

    @operation("PUT", f"{P}/assets/{{asset}}")
    def update_points_asset(
        self, asset: str, body: PointsAssetUpdate, *, idempotency_key: str | None = None
    ) -> Call[PointsAssetPublic]:
        return keyed(PointsAssetPublic, body, idempotency_key, path={"asset": asset})

    @operation("GET", f"{P}/reasons")
    def points_reasons(
        self,
        *,
        direction: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[ReasonListPublic]:
        """The reason codes by direction and code, a page at a time."""
        query = {"direction": direction, "limit": limit, "cursor": cursor}
        return ask(ReasonListPublic, query=query)

    @operation("POST", f"{P}/reasons")
    def create_points_reason(
        self, body: ReasonCreate, *, idempotency_key: str | None = None
    ) -> Call[ReasonPublic]:
        return keyed(ReasonPublic, body, idempotency_key)

    @operation("GET", f"{P}/reasons/{{direction}}/{{dtype}}")
    def points_reason(self, direction: str, dtype: str) -> Call[ReasonPublic]:
        return ask(ReasonPublic, path={"direction": direction, "dtype": dtype})

    @operation("PUT", f"{P}/reasons/{{direction}}/{{dtype}}")
    def put_points_reason(
        self,
        direction: str,
        dtype: str,
        body: ReasonSettings,
        *,
        idempotency_key: str | None = None,
    ) -> Call[ReasonPublic]:
        path = {"direction": direction, "dtype": dtype}
        return keyed(ReasonPublic, body, idempotency_key, path=path)
