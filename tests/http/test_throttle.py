"""Failed authentication from one client is slowed: 429 with Retry-After after the limit."""

from __future__ import annotations

import pytest

from rewardledger.config import Settings
from rewardledger.domain.limits import AUTH_FAILURE_WINDOW_SECONDS, AUTH_FAILURES_PER_CLIENT_MAX
from rewardledger.http.app import create_app
from rewardledger.http.throttle import AuthFailures
from rewardledger.ledger.engine import Ledger
from tests.http.support import ADMIN_TOKEN, Api, TestClient, assert_problem

GUESSER = ("127.0.0.2", 40000)
HONEST = ("127.0.0.3", 40000)


def test_a_hundred_wrong_keys_from_one_client_get_429_after_the_limit(
    api: Api, ledger: Ledger
) -> None:
    app = create_app(ledger, Settings(admin_token=ADMIN_TOKEN))
    path = api.url("/accounts/wallet:0:USD")
    wrong = {"Authorization": f"Bearer {api.keys['reader']}x"}
    with TestClient(app, client=GUESSER) as guesser, TestClient(app, client=HONEST) as honest:
        statuses = [guesser.get(path, headers=wrong).status_code for _ in range(100)]
        assert statuses == [401] * AUTH_FAILURES_PER_CLIENT_MAX + [429] * (
            100 - AUTH_FAILURES_PER_CLIENT_MAX
        )
        refused = guesser.get(path, headers=wrong)
        assert_problem(refused, 429, "too_many_failed_authentications")
        assert 1 <= int(refused.headers["Retry-After"]) <= AUTH_FAILURE_WINDOW_SECONDS
        # While throttled, even a correct key from that client is not checked.
        right = {"Authorization": f"Bearer {api.keys['reader']}"}
        assert guesser.get(path, headers=right).status_code == 429
        # Another client is not affected.
        assert honest.get(path, headers=right).status_code == 200


def test_the_admin_token_is_throttled_too(ledger: Ledger) -> None:
    app = create_app(ledger, Settings(admin_token=ADMIN_TOKEN))
    with TestClient(app, client=GUESSER) as guesser:
        bad = {"Authorization": "Bearer not-the-platform-token"}
        statuses = {
            guesser.post("/v1/tenants", json={"id": "x"}, headers=bad).status_code
            for _ in range(AUTH_FAILURES_PER_CLIENT_MAX + 1)
        }
        assert statuses == {401, 429}


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_the_limit_lifts_once_the_window_has_passed(engine_name: str) -> None:
    clock = _Clock()
    failures = AuthFailures(limit=3, window_seconds=60, clients_max=2, clock=clock)
    for _ in range(3):
        failures.check("a")
        failures.record("a")
    with pytest.raises(Exception, match="Too many failed authentications") as refused:
        failures.check("a")
    assert refused.value.context["retry_after_seconds"] == 60  # type: ignore[attr-defined]
    clock.now += 30
    with pytest.raises(Exception, match="Too many"):
        failures.check("a")
    clock.now += 30.5
    failures.check("a")  # the oldest failures have left the window
    # Bounded memory: a third client pushes out the one whose last failure is oldest.
    failures.record("b")
    failures.record("c")
    failures.record("a")
    assert list(failures._failures) == ["c", "a"]
