"""The client's operations on cashback, debt and their monthly cycle ledgers: programmes,
accounts, movements (idempotent by ``body.id``), the ledger rows and their refresh."""

from __future__ import annotations

from rewardledger.client._operation import ask, fixed, operation
from rewardledger.client._transport import Call
from rewardledger.http.schemas_cycles import (
    ApplyToDebtCreate,
    CashbackAccountCreate,
    CashbackAccountPublic,
    CashbackLedgerPage,
    CashbackLedgerPublic,
    CashbackMovementCreate,
    CashbackMovementPublic,
    CashbackProgramCreate,
    CashbackProgramPublic,
    CycleRunPublic,
    CycleSettingsCreate,
    CycleSettingsPublic,
    DebtLedgerPage,
    DebtLedgerPublic,
    DebtMovementCreate,
    DebtMovementPublic,
    DebtProgramCreate,
    DebtProgramPublic,
)

C = "/v1/tenants/{tid}/cashback"
D = "/v1/tenants/{tid}/debt"
Y = "/v1/tenants/{tid}/cycles"


class CycleOperations:
    @operation("PUT", f"{C}/program")
    def set_cashback_program(self, body: CashbackProgramCreate) -> Call[CashbackProgramPublic]:
        return ask(CashbackProgramPublic, body=body)

    @operation("PUT", f"{C}/accounts/{{account}}")
    def set_cashback_account(
        self, account: str, body: CashbackAccountCreate
    ) -> Call[CashbackAccountPublic]:
        return ask(CashbackAccountPublic, path={"account": account}, body=body)

    @operation("POST", f"{C}/movements")
    def create_cashback_movement(
        self, body: CashbackMovementCreate
    ) -> Call[CashbackMovementPublic]:
        return ask(CashbackMovementPublic, body=body)

    @operation("GET", f"{C}/ledger")
    def list_cashback_ledger(
        self,
        *,
        account: str | None = None,
        cycle: str | None = None,
        status: str | None = None,
        eligibility: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[CashbackLedgerPage]:
        query = {
            "account": account,
            "cycle": cycle,
            "status": status,
            "eligibility": eligibility,
            "limit": limit,
            "cursor": cursor,
        }
        return ask(CashbackLedgerPage, query=query)

    @operation("GET", f"{C}/ledger/{{account}}/{{cycle}}")
    def get_cashback_row(self, account: str, cycle: str) -> Call[CashbackLedgerPublic]:
        return ask(CashbackLedgerPublic, path={"account": account, "cycle": cycle})

    @operation("POST", f"{C}/ledger/{{account}}/{{cycle}}/apply-to-debt")
    def apply_cashback_to_debt(
        self, account: str, cycle: str, body: ApplyToDebtCreate
    ) -> Call[DebtMovementPublic]:
        return ask(DebtMovementPublic, path={"account": account, "cycle": cycle}, body=body)

    @operation("PUT", f"{D}/program")
    def set_debt_program(self, body: DebtProgramCreate) -> Call[DebtProgramPublic]:
        return ask(DebtProgramPublic, body=body)

    @operation("POST", f"{D}/movements")
    def create_debt_movement(self, body: DebtMovementCreate) -> Call[DebtMovementPublic]:
        return ask(DebtMovementPublic, body=body)

    @operation("GET", f"{D}/ledger")
    def list_debt_ledger(
        self,
        *,
        person: str | None = None,
        cycle: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[DebtLedgerPage]:
        query = {
            "person": person,
            "cycle": cycle,
            "status": status,
            "limit": limit,
            "cursor": cursor,
        }
        return ask(DebtLedgerPage, query=query)

    @operation("GET", f"{D}/ledger/{{person}}/{{cycle}}")
    def get_debt_row(self, person: str, cycle: str) -> Call[DebtLedgerPublic]:
        return ask(DebtLedgerPublic, path={"person": person, "cycle": cycle})

    get_cycle_settings = fixed("GET", f"{Y}/settings", CycleSettingsPublic)

    @operation("PUT", f"{Y}/settings")
    def set_cycle_settings(self, body: CycleSettingsCreate) -> Call[CycleSettingsPublic]:
        return ask(CycleSettingsPublic, body=body)

    refresh_cycles = fixed("POST", f"{Y}/refresh", CycleRunPublic)
    rebuild_cycles = fixed("POST", f"{Y}/rebuild", CycleRunPublic)
