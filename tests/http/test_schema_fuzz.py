"""The OpenAPI document is a contract the app keeps: schemathesis sends what it describes.

Over the app in process (ASGI transport), on each engine, every operation gets a bounded,
deterministic set of requests generated from its schema: a tenant's admin key is sent and the
path's tenant is the tenant's own, so that requests get past authentication and reach the
route. For every response:
- no 5xx;
- status, content type, headers and body are what the schema documents for the operation;
- a request the schema accepts is not refused with ``validation_error`` for a reason the
  schema could have stated (a pattern, a length, an enum): the refusals the schema cannot state
  (a rule across fields or about stored data) are listed in ``_SEMANTIC``, each with its reason.

The counts (requests, 5xx, violations) are printed per engine, so that ``pytest -s`` shows
them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth

from rewardledger.config import Settings
from rewardledger.domain.access import Role
from rewardledger.http.app import create_app
from rewardledger.http.throttle import AuthFailures
from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import issue_key
from tests.builders import Programme
from tests.http.support import ADMIN_TOKEN

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 25
# A request the schema accepts may still be refused for a reason the schema cannot state: a
# rule across fields or headers, or one about stored data or a list outside the schema. Each
# refused field name is listed with why; a refusal naming any other field fails the test.
_SEMANTIC: dict[str, str] = {
    "cursor": "a cursor is valid only if the list gave it (it encodes a row's sort key)",
    "timezone": "the zone must be in the server's IANA database",
    "metadata": "metadata's limits are on its encoded size and depth, and no NUL at any depth",
    "ref": "a transfer's id comes from ref or the Idempotency-Key header: one of them",
    "idempotency_key": "from the body or the Idempotency-Key header: one of them",
    "from": "from and to go together, and from is not after to",
    "to": "from and to go together, and from is not after to",
    "effective_at": "a transfer may be back-dated, not post-dated: it depends on the clock",
    "url": "a webhook url's host and port are parsed, which a pattern cannot state fully",
    "event_types": 'a webhook subscription names "*" alone or event types, not both',
    "after": "a webhook redelivery range starts at a feed cursor (after) or a time (since)",
    "until_time": "a webhook redelivery range's until_time is later than its since",
    "dtype": "a reason code must be in the tenant's catalogue (stored data)",
}
# Fields whose refusal depends on another field's value (an accrual needs what a reversal does
# not; an amount's decimals depend on the asset's scale, which is stored data).
_SEMANTIC_MESSAGES = (
    "An accrual needs",
    "A reversal names",
    "are the same account",
    "applies only to pending transfers",
    "must be the programme's",
    "is above the largest amount",  # in minor units: depends on the asset's scale
    "cannot change once",  # the stored programme decides
    "decimal places but this asset has",
    "must be greater than zero",
    "is too large.",  # in minor units: depends on the currency's scale
    # An expiry policy's fields depend on its kind; a reason's settings on its direction.
    "applies only to an 'after' expiry",
    "applies only to a 'fixed' expiry",
    "expiry needs",
    "applies to spend reasons only",
    "apply to earn reasons only",
    # JSON Schema counts 1.0 as an integer; the API reads integers written without a fraction.
    "input should be a valid integer, not a number",
)
# schemathesis's own verdicts on acceptance, replaced by the finer one of this module.
_JUDGED_HERE = {"RejectedPositiveData", "AcceptedNegativeData"}


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    violations: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)


def _leaf(field_name: str) -> str:
    """``transfers[3].ref`` -> ``ref``."""
    return field_name.rsplit(".", 1)[-1].split("[", 1)[0]


def _refused_for_schema_reason(operation: str, response: Any) -> str | None:
    if response.status_code != 422:
        return None
    body = response.json()
    if body.get("code") != "validation_error":
        return None
    items = body.get("errors") or [{"field": body.get("field", ""), "message": body["detail"]}]
    unexplained = sorted(
        {
            item.get("field", "")
            for item in items
            if _leaf(item.get("field", "")) not in _SEMANTIC
            and not any(sign in item.get("message", "") for sign in _SEMANTIC_MESSAGES)
        }
    )
    if not unexplained:
        return None
    return f"{operation}: valid by the schema, refused as validation_error on {unexplained}"


def _run_operation(operation: Any, tenant_id: str, key: str, tally: Tally, mode: Any) -> None:
    strategy = operation.as_strategy(
        generation_mode=mode,
        path_parameters={"tid": tenant_id} if "{tid}" in operation.path else None,
        headers={
            "Authorization": f"Bearer {ADMIN_TOKEN if operation.path == '/v1/tenants' else key}"
        },
    )

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call()
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        label = f"{operation.label} -> {response.status_code}"
        if response.status_code >= 500:
            tally.server_errors += 1
            tally.violations.append(f"{label}: server error")
            tally.samples.setdefault(f"{label}: server error", response.text[:300])
            return
        try:
            # Authentication is enforced route by route in test_access.py; this check takes
            # the key the strategy sends for a generated one and fails every success.
            case.validate_response(response, excluded_checks=[ignored_auth])
        except FailureGroup as group:
            for failure in group.exceptions:
                assert isinstance(failure, Failure)
                if type(failure).__name__ in _JUDGED_HERE:
                    continue  # judged below, by what the refusal names
                tally.violations.append(f"{label}: {failure.title}")
                tally.samples.setdefault(f"{label}: {failure.title}", failure.message[:300])
        if mode == GenerationMode.POSITIVE:
            gap = _refused_for_schema_reason(operation.label, response)
            if gap is not None:
                tally.violations.append(gap)
                tally.samples.setdefault(gap, response.json()["detail"][:300])

    run()


@pytest.fixture
def fuzzed_app(ledger: Ledger, tenant_id: str, shop: Programme) -> tuple[Any, str]:
    app = create_app(ledger, Settings(admin_token=ADMIN_TOKEN))
    # schemathesis re-sends requests without their key to check that auth is enforced; those
    # 401s must not throttle the client (test_throttle.py tests the throttle).
    app.state.auth_failures = AuthFailures(limit=1_000_000)
    return app, issue_key(ledger, tenant_id, Role.ADMIN.value).key


def test_every_operation_keeps_its_schema(
    fuzzed_app: tuple[Any, str], tenant_id: str, engine_name: str
) -> None:
    app, key = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        _run_operation(operation, tenant_id, key, tally, GenerationMode.POSITIVE)
    print(  # noqa: T201 - the counts the issue asks for
        f"\nschemathesis on {engine_name}: {tally.requests} requests, "
        f"{tally.server_errors} 5xx, {len(tally.violations)} violations; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    distinct = sorted(Counter(tally.violations).items())
    shown = "\n".join(
        f"{count} x {text}\n      e.g. {tally.samples.get(text, '')!r}" for text, count in distinct
    )
    # Not vacuous: every operation was sent requests, and many got past to the ledger.
    assert len(operations) >= 60
    assert tally.requests >= 10 * len(operations)
    assert tally.statuses[200] + tally.statuses[201] >= 100
    assert tally.server_errors == 0, shown
    assert tally.violations == [], shown
