"""The sample values the examples share: one tenant, its members, assets, amounts and times.

The demo tenant's names and figures (``rewardledger serve`` seeds it on a first start): its
tenant, members, assets, accounts, spring-campaign budget and caps, so that the ids an example
names exist in the demo. Times are in March 2026, the spring campaign's month; the tenant keeps
Panama time (UTC-05:00), so 09:30 there is 14:30 UTC.
"""

from __future__ import annotations

from rewardledger.services import demo, demo_programme

TENANT = demo.DEMO_TENANT
TENANT_NAME = "Lumis Demo Rewards"
TIMEZONE = "America/Panama"

POINTS = demo.POINTS
CASH = demo.CASH
MEMBER = "member-00000"
MEMBER_AT_CAP = demo_programme.CASHBACK_AT_CAP
DEBTOR = "member-00011"
WALLET = demo.member_wallet(0)
CASH_WALLET = demo.member_cash(0)
FUNDING = demo.FUNDING
ISSUANCE = demo.ISSUANCE
REDEMPTIONS = demo.REDEMPTIONS

BUDGET = demo_programme.BUDGET
BUDGET_NAME = "Spring campaign"
HARD_CAP = demo_programme.BUDGET_HARD_CAP
SOFT_CAP = demo_programme.BUDGET_SOFT_CAP
THRESHOLDS_PERCENT = [80, 95]
ZERO_CASH = "0.00"

CYCLE = "2026-03"
# When things happened (UTC, as answers give them) and a time a client sends (its own offset).
CREATED_AT = "2026-03-01T14:00:00Z"
AT = "2026-03-14T14:30:00Z"
LATER = "2026-03-14T14:45:00Z"
LOCAL_AT = "2026-03-14T09:30:00-05:00"
PERIOD_START = "2026-03-01T00:00:00-05:00"
PERIOD_END = "2026-04-01T00:00:00-05:00"
DUE_AT = "2026-04-15T00:00:00-05:00"

KEY_ID = "3f9a1c2b7d4e8f60"
ORDER = "invoice-20260314-0042"
CURSOR = "WyJtZW1iZXItMDAwMDAiXQ"
