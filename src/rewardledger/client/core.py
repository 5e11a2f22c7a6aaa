"""The client's operations on the core ledger: health, tenants, API keys, assets, accounts,
transfers, integrity and due jobs (one method per route; see ``client._operation``)."""

from __future__ import annotations

from datetime import datetime

from rewardledger.client._operation import ask, fixed, keyed, operation
from rewardledger.client._transport import Call
from rewardledger.http.routes.jobs import JobFailuresPublic, JobsReportPublic
from rewardledger.http.schemas import (
    AccountCreate,
    AccountPublic,
    ApiKeyCreate,
    AssetCreate,
    AssetPublic,
    BalancePublic,
    HistoryPublic,
    PostCreate,
    TenantCreate,
    TransferBatchCreate,
    TransferBatchPublic,
    TransferCreate,
    TransferPublic,
    VoidCreate,
)
from rewardledger.http.schemas_keys import (
    ApiKeyInfo,
    ApiKeyIssuedPublic,
    ApiKeyPagePublic,
    ApiKeyRotate,
    ApiKeyRotatedPublic,
    TenantCreatedPublic,
)
from rewardledger.http.schemas_reports import (
    HealthPublic,
    IntegrityReportPublic,
    RepairReportPublic,
)

T = "/v1/tenants/{tid}"


class CoreOperations:
    healthz = fixed("GET", "/healthz", HealthPublic, "Liveness: the server process is up.")
    readyz = fixed("GET", "/readyz", HealthPublic, "Readiness: the server reaches its database.")

    @operation("POST", "/v1/tenants")
    def create_tenant(
        self, body: TenantCreate, *, idempotency_key: str | None = None
    ) -> Call[TenantCreatedPublic]:
        """Create a tenant and its first admin key (needs the client's ``admin_token``); a
        retry under the same idempotency key answers that key without its secret."""
        return ask(TenantCreatedPublic, body=body, admin=True, keyed=True, key=idempotency_key)

    @operation("POST", f"{T}/api-keys")
    def create_api_key(
        self, body: ApiKeyCreate, *, idempotency_key: str | None = None
    ) -> Call[ApiKeyIssuedPublic]:
        """Issue a key; a retry under the same idempotency key answers it without its secret."""
        return keyed(ApiKeyIssuedPublic, body, idempotency_key)

    @operation("GET", f"{T}/api-keys")
    def list_api_keys(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[ApiKeyPagePublic]:
        return ask(ApiKeyPagePublic, query={"limit": limit, "cursor": cursor})

    @operation("POST", f"{T}/api-keys/{{key_id}}/revoke")
    def revoke_api_key(self, key_id: str) -> Call[ApiKeyInfo]:
        return ask(ApiKeyInfo, path={"key_id": key_id})

    @operation("POST", f"{T}/api-keys/{{key_id}}/rotate")
    def rotate_api_key(
        self, key_id: str, body: ApiKeyRotate | None = None, *, idempotency_key: str | None = None
    ) -> Call[ApiKeyRotatedPublic]:
        return keyed(
            ApiKeyRotatedPublic, body or ApiKeyRotate(), idempotency_key, path={"key_id": key_id}
        )

    @operation("POST", f"{T}/assets")
    def create_asset(
        self, body: AssetCreate, *, idempotency_key: str | None = None
    ) -> Call[AssetPublic]:
        return keyed(AssetPublic, body, idempotency_key)

    @operation("POST", f"{T}/accounts")
    def create_account(
        self, body: AccountCreate, *, idempotency_key: str | None = None
    ) -> Call[AccountPublic]:
        return keyed(AccountPublic, body, idempotency_key)

    @operation("GET", f"{T}/accounts/{{aid}}")
    def get_account(self, aid: str) -> Call[AccountPublic]:
        return ask(AccountPublic, path={"aid": aid})

    @operation("GET", f"{T}/accounts/{{aid}}/history")
    def account_history(
        self, aid: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[HistoryPublic]:
        return ask(HistoryPublic, path={"aid": aid}, query={"limit": limit, "cursor": cursor})

    @operation("GET", f"{T}/accounts/{{aid}}/balance")
    def account_balance(self, aid: str, *, at: datetime | None = None) -> Call[BalancePublic]:
        return ask(
            BalancePublic, path={"aid": aid}, query={"at": None if at is None else at.isoformat()}
        )

    @operation("POST", f"{T}/transfers")
    def create_transfer(
        self, body: TransferCreate, *, idempotency_key: str | None = None
    ) -> Call[TransferPublic]:
        """Move money; ``body.ref`` or ``idempotency_key`` is the transfer's id (else one is
        made, and reused by every retry)."""
        return keyed(TransferPublic, body, idempotency_key)

    @operation("POST", f"{T}/transfers/batch")
    def create_batch(
        self, body: TransferBatchCreate, *, idempotency_key: str | None = None
    ) -> Call[TransferBatchPublic]:
        return keyed(TransferBatchPublic, body, idempotency_key)

    @operation("GET", f"{T}/transfers/{{id}}")
    def get_transfer(self, transfer_id: str) -> Call[TransferPublic]:
        return ask(TransferPublic, path={"id": transfer_id})

    @operation("POST", f"{T}/transfers/{{id}}/post")
    def post_transfer(
        self,
        transfer_id: str,
        body: PostCreate | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Call[TransferPublic]:
        """Post a pending transfer (all of it, or ``body.amount``)."""
        return keyed(
            TransferPublic, body or PostCreate(), idempotency_key, path={"id": transfer_id}
        )

    @operation("POST", f"{T}/transfers/{{id}}/void")
    def void_transfer(
        self,
        transfer_id: str,
        body: VoidCreate | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Call[TransferPublic]:
        return keyed(
            TransferPublic, body or VoidCreate(), idempotency_key, path={"id": transfer_id}
        )

    verify = fixed("GET", f"{T}/integrity", IntegrityReportPublic)
    repair = fixed("POST", f"{T}/integrity/repair", RepairReportPublic)
    run_jobs = fixed("POST", f"{T}/jobs/run", JobsReportPublic)

    @operation("GET", f"{T}/jobs/failures")
    def job_failures(
        self,
        *,
        include_resolved: bool | None = None,
        step: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[JobFailuresPublic]:
        """The failed steps of due work, the latest first, a page at a time."""
        query = {
            "include_resolved": include_resolved,
            "step": step,
            "from": None if since is None else since.isoformat(),
            "limit": limit,
            "cursor": cursor,
        }
        return ask(JobFailuresPublic, query=query)
