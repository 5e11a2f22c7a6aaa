"""The client's operations on budgets: definitions, top-ups, reservations and their charges,
corrections, resets and fixes, utilization, reconciliation, reports, entries and alerts.

Reports are read as JSON here (the routes' ``format=csv`` is for spreadsheets, not a client).
"""

from __future__ import annotations

from datetime import date

from rewardledger.client._operation import ask, fixed, keyed, operation
from rewardledger.client._transport import Call
from rewardledger.http.schemas_budgets import (
    AlertsPublic,
    BudgetCreate,
    BudgetListPublic,
    BudgetPublic,
    BudgetReconciliationPublic,
    BudgetReportPublic,
    ChargeCreate,
    CorrectionCreate,
    CorrectionPublic,
    EntriesPublic,
    FixCreate,
    FixPublic,
    ReleaseCreate,
    ReservationCreate,
    ReservationPublic,
    ResetAllCreate,
    ResetCreate,
    ResetPublic,
    ResetSchedulePublic,
    ResetSummaryPublic,
    TenantReconciliationPublic,
    TenantReportPublic,
    TopupCreate,
    TopupPublic,
    UtilizationPublic,
)

B = "/v1/tenants/{tid}/budgets"


def _dates(
    range_name: str | None, date_from: date | None, date_to: date | None
) -> dict[str, str | None]:
    return {
        "range": range_name,
        "from": None if date_from is None else date_from.isoformat(),
        "to": None if date_to is None else date_to.isoformat(),
    }


class BudgetOperations:
    @operation("POST", B)
    def create_budget(
        self, body: BudgetCreate, *, idempotency_key: str | None = None
    ) -> Call[BudgetPublic]:
        return keyed(BudgetPublic, body, idempotency_key)

    @operation("GET", B)
    def list_budgets(
        self, *, after: str | None = None, limit: int | None = None
    ) -> Call[BudgetListPublic]:
        return ask(BudgetListPublic, query={"after": after, "limit": limit})

    @operation("GET", f"{B}/{{bid}}")
    def get_budget(self, bid: str) -> Call[BudgetPublic]:
        return ask(BudgetPublic, path={"bid": bid})

    @operation("POST", f"{B}/{{bid}}/topup")
    def topup(
        self, bid: str, body: TopupCreate, *, idempotency_key: str | None = None
    ) -> Call[TopupPublic]:
        return keyed(TopupPublic, body, idempotency_key, path={"bid": bid})

    @operation("POST", f"{B}/{{bid}}/reservations")
    def reserve(self, bid: str, body: ReservationCreate) -> Call[ReservationPublic]:
        """Reserve budget; ``body.reference`` is the reservation's idempotency key."""
        return ask(ReservationPublic, path={"bid": bid}, body=body)

    @operation("POST", f"{B}/{{bid}}/reservations/{{ref}}/charge")
    def charge(
        self,
        bid: str,
        ref: str,
        body: ChargeCreate | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Call[ReservationPublic]:
        return keyed(
            ReservationPublic,
            body or ChargeCreate(),
            idempotency_key,
            path={"bid": bid, "ref": ref},
        )

    @operation("POST", f"{B}/{{bid}}/reservations/{{ref}}/release")
    def release(self, bid: str, ref: str) -> Call[ReservationPublic]:
        return ask(ReservationPublic, path={"bid": bid, "ref": ref}, body=ReleaseCreate())

    @operation("POST", f"{B}/{{bid}}/corrections")
    def correct(
        self, bid: str, body: CorrectionCreate, *, idempotency_key: str | None = None
    ) -> Call[CorrectionPublic]:
        return keyed(CorrectionPublic, body, idempotency_key, path={"bid": bid})

    @operation("GET", f"{B}/{{bid}}/reset-schedule")
    def reset_schedule(self, bid: str) -> Call[ResetSchedulePublic]:
        return ask(ResetSchedulePublic, path={"bid": bid})

    @operation("POST", f"{B}/{{bid}}/reset")
    def reset_budget(
        self, bid: str, body: ResetCreate | None = None, *, idempotency_key: str | None = None
    ) -> Call[ResetPublic]:
        return keyed(ResetPublic, body or ResetCreate(), idempotency_key, path={"bid": bid})

    @operation("POST", f"{B}/reset")
    def reset_budgets(
        self, body: ResetAllCreate, *, idempotency_key: str | None = None
    ) -> Call[ResetSummaryPublic]:
        return keyed(ResetSummaryPublic, body, idempotency_key)

    @operation("POST", f"{B}/{{bid}}/fix")
    def fix_budget(
        self, bid: str, body: FixCreate, *, idempotency_key: str | None = None
    ) -> Call[FixPublic]:
        return keyed(FixPublic, body, idempotency_key, path={"bid": bid})

    @operation("GET", f"{B}/{{bid}}/utilization")
    def utilization(self, bid: str, *, period: str | None = None) -> Call[UtilizationPublic]:
        return ask(UtilizationPublic, path={"bid": bid}, query={"period": period})

    @operation("POST", f"{B}/{{bid}}/reconcile")
    def reconcile_budget(self, bid: str) -> Call[BudgetReconciliationPublic]:
        return ask(BudgetReconciliationPublic, path={"bid": bid})

    reconcile = fixed("POST", "/v1/tenants/{tid}/reconcile", TenantReconciliationPublic)

    @operation("GET", f"{B}/{{bid}}/report")
    def budget_report(
        self,
        bid: str,
        *,
        range_name: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> Call[BudgetReportPublic]:
        query = _dates(range_name, date_from, date_to)
        return ask(BudgetReportPublic, path={"bid": bid}, query=query)

    @operation("GET", "/v1/tenants/{tid}/reports/budgets")
    def budgets_report(
        self,
        *,
        range_name: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[TenantReportPublic]:
        """Every budget's report by budget id, a page at a time (``Client.pages`` follows)."""
        query = {**_dates(range_name, date_from, date_to), "limit": limit, "cursor": cursor}
        return ask(TenantReportPublic, query=query)

    @operation("GET", f"{B}/{{bid}}/entries")
    def budget_entries(
        self,
        bid: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> Call[EntriesPublic]:
        query = {"limit": limit, "cursor": cursor, **_dates(None, date_from, date_to)}
        return ask(EntriesPublic, path={"bid": bid}, query=query)

    @operation("GET", "/v1/tenants/{tid}/alerts")
    def alerts(
        self, *, budget_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Call[AlertsPublic]:
        return ask(AlertsPublic, query={"budget_id": budget_id, "limit": limit, "cursor": cursor})
