"""A server keeps the API keys it has read for ``REWARDLEDGER_API_KEY_CACHE_SECONDS``: a
request with a kept key reads no key from the database, a key revoked elsewhere is refused
once its copy is that old, and one revoked or rotated through this server is refused at once.
Both engines (the statements are watched at SQLAlchemy, where the key lookup runs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from rewardledger.config import Settings
from rewardledger.domain.errors import NotFound, Unauthorized
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services import api_keys
from rewardledger.services.access import (
    LAST_USED_RESOLUTION,
    KeyCache,
    authenticate,
    authenticate_kept,
    issue_key,
)
from tests.builders import programme
from tests.http.support import ADMIN_TOKEN, TestClient, assert_problem


class Timer:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def key_reads(ledger: Ledger) -> Iterator[list[str]]:
    """The statements on API keys run inside the block."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "api_key" in statement:  # the table, or its lookup function on PostgreSQL
            seen.append(statement)

    engine = ledger.store.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _serve(ledger: Ledger, seconds: float, timer: Timer | None = None) -> TestClient:
    app = create_app(ledger, Settings(admin_token=ADMIN_TOKEN, api_key_cache_seconds=seconds))
    if timer is not None:
        app.state.api_keys = KeyCache(seconds, timer=timer)
    return TestClient(app)


def _get(client: TestClient, tenant_id: str, account: str, key: str) -> int:
    url = f"/v1/tenants/{tenant_id}/accounts/{account}"
    return client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code


def test_a_kept_key_is_authenticated_without_reading_the_database(
    ledger: Ledger, tenant_id: str
) -> None:
    account = programme(ledger, tenant_id).wallets[0]
    key = issue_key(ledger, tenant_id, "reader").key
    with _serve(ledger, 60) as client:
        with key_reads(ledger) as first:
            assert _get(client, tenant_id, account, key) == 200
        with key_reads(ledger) as later:
            for _ in range(5):
                assert _get(client, tenant_id, account, key) == 200
    assert [s for s in first if s.lstrip().upper().startswith("SELECT")], first
    assert later == [], later


def test_with_no_cache_each_request_reads_its_key(ledger: Ledger, tenant_id: str) -> None:
    account = programme(ledger, tenant_id).wallets[0]
    key = issue_key(ledger, tenant_id, "reader").key
    with _serve(ledger, 0) as client, key_reads(ledger) as reads:
        for _ in range(3):
            assert _get(client, tenant_id, account, key) == 200
    selects = [s for s in reads if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, reads


def test_a_key_revoked_elsewhere_is_refused_once_its_copy_is_as_old_as_the_bound(
    ledger: Ledger, tenant_id: str
) -> None:
    account = programme(ledger, tenant_id).wallets[0]
    issued = issue_key(ledger, tenant_id, "reader")
    timer = Timer()
    with _serve(ledger, 5, timer) as client:
        assert _get(client, tenant_id, account, issued.key) == 200
        # Revoked as the CLI or another server process would: this one is not told.
        api_keys.revoke(ledger, tenant_id, issued.key_id)
        timer.now += 4.9
        assert _get(client, tenant_id, account, issued.key) == 200
        timer.now += 0.1
        response = client.get(
            f"/v1/tenants/{tenant_id}/accounts/{account}",
            headers={"Authorization": f"Bearer {issued.key}"},
        )
        assert "revoked" in assert_problem(response, 401, "unauthorized")["detail"]


def test_a_key_revoked_or_rotated_through_this_server_is_refused_at_once(
    ledger: Ledger, tenant_id: str
) -> None:
    account = programme(ledger, tenant_id).wallets[0]
    admin = {"Authorization": f"Bearer {issue_key(ledger, tenant_id, 'admin').key}"}
    revoked = issue_key(ledger, tenant_id, "reader")
    rotated = issue_key(ledger, tenant_id, "reader")
    keys = f"/v1/tenants/{tenant_id}/api-keys"
    with _serve(ledger, 300, Timer()) as client:
        assert _get(client, tenant_id, account, revoked.key) == 200
        assert _get(client, tenant_id, account, rotated.key) == 200
        answer = client.post(f"{keys}/{revoked.key_id}/revoke", headers=admin)
        assert answer.status_code == 200, answer.text
        assert _get(client, tenant_id, account, revoked.key) == 401
        answer = client.post(
            f"{keys}/{rotated.key_id}/rotate", json={"overlap_seconds": 0}, headers=admin
        )
        assert answer.status_code == 201, answer.text
        assert _get(client, tenant_id, account, rotated.key) == 401
        assert _get(client, tenant_id, account, answer.json()["new"]["key"]) == 200


def test_a_key_issued_elsewhere_works_at_its_first_request(ledger: Ledger, tenant_id: str) -> None:
    account = programme(ledger, tenant_id).wallets[0]
    with _serve(ledger, 300, Timer()) as client:
        assert _get(client, tenant_id, account, "rlk_0123456789abcdef_nope") == 401
        issued = issue_key(ledger, tenant_id, "reader", key_id="0123456789abcdef")
        assert _get(client, tenant_id, account, issued.key) == 200


def test_a_kept_key_is_checked_without_the_database_and_alike(
    ledger: Ledger, tenant_id: str
) -> None:
    """The server checks a kept key on its event loop (``authenticate_kept``): the same
    principal and the same refusals as ``authenticate``, and None, not a guess, for a key it
    does not keep or whose last use is due to be written."""
    other = f"{tenant_id}-other"  # need not exist: the key names its own tenant
    issued = issue_key(ledger, tenant_id, "writer")
    keys = KeyCache(300, timer=Timer())
    with key_reads(ledger) as unkept:
        assert authenticate_kept(ledger, tenant_id, issued.key, keys) is None
    assert unkept == []
    principal = authenticate(ledger, tenant_id, issued.key, keys)  # read, last use written
    with key_reads(ledger) as reads:
        assert authenticate_kept(ledger, tenant_id, issued.key, keys) == principal
        wrong_secret = issued.key[:-1] + ("y" if issued.key[-1] != "y" else "z")
        for presented, tenant, error in (
            (wrong_secret, tenant_id, Unauthorized),
            (issued.key, other, NotFound),
            ("", tenant_id, Unauthorized),
            ("not-a-key", tenant_id, Unauthorized),
        ):
            with pytest.raises(error) as kept_refusal:
                authenticate_kept(ledger, tenant, presented, keys)
            with pytest.raises(error) as refusal:
                authenticate(ledger, tenant, presented, keys)
            assert str(kept_refusal.value) == str(refusal.value)
    assert reads == [], reads
    # A key whose last use is older than the resolution must be written: not decided here.
    stale = keys.kept(issued.key_id)
    assert stale is not None
    assert stale.last_used_at is not None
    keys.used(issued.key_id, stale.last_used_at - LAST_USED_RESOLUTION * 2)
    assert authenticate_kept(ledger, tenant_id, issued.key, keys) is None
