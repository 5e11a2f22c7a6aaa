"""Create and read budgets.

Owns the budget's definition as stored: created once, in one unit; creating it again with the
same values is a replay that returns it unchanged, and with any value different it is
``already_exists`` naming each differing field (``domain.budgets.policy_differences``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

from rewardledger.domain.budgets import (
    BUILT_IN_CURRENCIES,
    BUILT_IN_CURRENCY_SCALE,
    DEFAULT_THRESHOLDS_PERCENT,
    BudgetPolicy,
    check_funding,
    check_policy,
    default_soft_cap,
    policy_differences,
)
from rewardledger.domain.budgets import budget_id as check_budget_id
from rewardledger.domain.errors import AlreadyExists, NotFound
from rewardledger.domain.ids import asset_code
from rewardledger.domain.limits import BUDGETS_PER_TENANT_REPORT_MAX, PAGE_SIZE_DEFAULT
from rewardledger.domain.money import parse_positive
from rewardledger.domain.paging import page_limit
from rewardledger.domain.tenants import display_name
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.budgets.port import BudgetStore, store_of


def create_budget(
    ledger: Ledger,
    tenant_id: str,
    budget_id: str,
    *,
    currency: str,
    hard_cap: str,
    soft_cap: str | None = None,
    name: str | None = None,
    alert_thresholds: Sequence[int] = DEFAULT_THRESHOLDS_PERCENT,
    period: str = "monthly",
    rollover: bool = False,
    member_cap_amount: str | None = None,
    member_cap_count: int | None = None,
    funding: str = "prefunded",
) -> BudgetPolicy:
    """Create a budget; creating it again with the same values returns it unchanged.

    ``currency``: USD and ZWG are always available (created with 2 decimals on first use);
    any other must be an asset the tenant created. ``soft_cap`` defaults to 80 % of the hard
    cap (the seed's "80% soft"), so the soft-cap alert fires with default settings.
    ``funding``: ``prefunded`` (reserves need a top-up first) or ``on_demand`` (capped but not
    pre-funded: a reserve draws what it needs from the tenant's funding account).
    """
    terms = BudgetTerms(
        currency=currency,
        hard_cap=hard_cap,
        soft_cap=soft_cap,
        name=name,
        alert_thresholds=tuple(alert_thresholds),
        period=period,
        rollover=rollover,
        member_cap_amount=member_cap_amount,
        member_cap_count=member_cap_count,
        funding=funding,
    )
    wanted = budget_policy(ledger, tenant_id, budget_id, terms)
    return ledger.run(tenant_id, partial(create_within, store_of(ledger), wanted))[0]


@dataclass(frozen=True, slots=True)
class BudgetTerms:
    """A budget's definition as a caller writes it (``create_budget``'s keywords, amounts as
    decimal strings), before it is checked."""

    currency: str
    hard_cap: str
    soft_cap: str | None = None
    name: str | None = None
    alert_thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS_PERCENT
    period: str = "monthly"
    rollover: bool = False
    member_cap_amount: str | None = None
    member_cap_count: int | None = None
    funding: str = "prefunded"


def budget_policy(
    ledger: Ledger, tenant_id: str, budget_id: str, terms: BudgetTerms
) -> BudgetPolicy:
    """The budget ``create_budget`` would create, checked (no write but the built-in
    currency's asset on first use); ``create_within`` writes it in a caller's unit."""
    check_budget_id(budget_id)
    code = asset_code(terms.currency, "currency")
    if code in BUILT_IN_CURRENCIES and code not in ledger.assets(tenant_id):
        ledger.create_asset(tenant_id, code, scale=BUILT_IN_CURRENCY_SCALE)
    scale = ledger.get_asset(tenant_id, code).scale

    def money(text: str | None, field: str) -> int | None:
        return None if text is None else parse_positive(text, scale, field=field)

    hard = parse_positive(terms.hard_cap, scale, field="hard_cap")
    soft = money(terms.soft_cap, "soft_cap") or default_soft_cap(hard)
    cap_amount = money(terms.member_cap_amount, "member_cap_amount")
    thresholds, count_cap = terms.alert_thresholds, terms.member_cap_count
    chosen = check_policy(
        hard, soft, thresholds, terms.period, terms.rollover, cap_amount, count_cap
    )
    return BudgetPolicy(
        tenant_id=tenant_id,
        id=budget_id,
        name=display_name(terms.name if terms.name is not None else budget_id),
        currency=code,
        scale=scale,
        hard_cap_minor=hard,
        soft_cap_minor=soft,
        thresholds_percent=thresholds,
        period=chosen,
        rollover=terms.rollover,
        member_cap_amount_minor=cap_amount,
        member_cap_count=count_cap,
        created_at=ledger.clock(),
        funding=check_funding(terms.funding),
    )


def create_within(
    store: BudgetStore, wanted: BudgetPolicy, work: UnitOfWork
) -> tuple[BudgetPolicy, bool]:
    """Create ``wanted`` in ``work``; True with it when it existed with the same values (a
    replay), ``already_exists`` naming each differing field when with others."""
    found = store.lock_budget(work.unit, work.tenant_id, wanted.id)
    if found is not None:
        differing = policy_differences(found[0], wanted)
        if differing:
            raise AlreadyExists("budget", wanted.id, differing)
        return found[0], True
    policy = replace(wanted, created_at=work.now)
    store.insert_budget(work.unit, policy)
    work.event("budget.created", wanted.id, {"currency": wanted.currency})
    return policy, False


def get_budget(ledger: Ledger, tenant_id: str, budget_id: str) -> BudgetPolicy:
    ledger.get_tenant(tenant_id)
    policy = store_of(ledger).get_budget(tenant_id, check_budget_id(budget_id))
    if policy is None:
        raise NotFound("budget", budget_id)
    return policy


def list_budgets(
    ledger: Ledger, tenant_id: str, *, after: str | None = None, limit: int = PAGE_SIZE_DEFAULT
) -> list[BudgetPolicy]:
    ledger.get_tenant(tenant_id)
    return store_of(ledger).list_budgets(tenant_id, after, page_limit(limit))


def all_budgets(ledger: Ledger, tenant_id: str) -> list[BudgetPolicy]:
    """Every budget of the tenant, at most BUDGETS_PER_TENANT_REPORT_MAX (for reports)."""
    ledger.get_tenant(tenant_id)
    return store_of(ledger).list_budgets(tenant_id, None, BUDGETS_PER_TENANT_REPORT_MAX)
