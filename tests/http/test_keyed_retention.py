"""Kept answers of keyed set-up writes are pruned by the worker's ``keyed_writes`` step once
older than ``REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS``: an old key's answer is gone (its retry
is a new request, answered by what the write creates), a fresh one still replays, and another
tenant's are untouched. Runs on SQLite and PostgreSQL (the ``ledger`` fixture)."""

from __future__ import annotations

import secrets

import pytest

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.keyed_writes import KeptWrite
from rewardledger.ledger.engine import Ledger
from rewardledger.services import keyed_writes
from rewardledger.worker import STEPS
from tests.builders import FakeClock
from tests.http.support import Api

OPERATION = "POST /assets"


def _create(api: Api, code: str, key: str) -> tuple[int, str | None]:
    response = api.post(
        "/assets", {"code": code, "scale": 0}, headers={"Idempotency-Key": key}, role="admin"
    )
    assert response.status_code in (200, 201), response.text
    return response.status_code, response.headers.get("Idempotent-Replayed")


def test_the_step_prunes_old_keys_and_a_fresh_one_still_replays(
    api: Api, ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS", "30")
    tid = api.tenant_id
    other = f"o{secrets.token_hex(6)}"
    ledger.create_tenant(other)
    for i in range(3):
        _create(api, f"OLD{i}", f"old-{i}")
    ledger.store.keep_keyed_write(KeptWrite(other, OPERATION, "theirs", "d" * 64, {}, clock.now))
    clock.advance(days=31)
    assert _create(api, "NEW", "new") == (201, None)

    counts = STEPS["keyed_writes"].run(ledger, tid)

    assert counts == {"keyed_writes_pruned": 3}
    assert [ledger.store.keyed_write(tid, OPERATION, f"old-{i}") for i in range(3)] == [None] * 3
    assert ledger.store.keyed_write(tid, OPERATION, "new") is not None
    assert _create(api, "NEW", "new") == (200, "true")  # replayed from its kept answer
    # The old key again is a new request: the asset it makes exists with the same values.
    assert _create(api, "OLD0", "old-0")[1] is None  # not a replay
    assert ledger.store.keyed_write(tid, OPERATION, "old-0") is not None  # kept anew
    assert ledger.store.keyed_write(other, OPERATION, "theirs") is not None
    assert STEPS["keyed_writes"].run(ledger, tid) == {"keyed_writes_pruned": 0}
    clock.advance(days=31)
    assert STEPS["keyed_writes"].run(ledger, tid) == {"keyed_writes_pruned": 2}


def test_pruning_runs_in_batches_until_nothing_old_is_left(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    for i in range(7):
        kept = KeptWrite(tenant_id, OPERATION, f"k{i}", "d" * 64, {}, clock.now)
        ledger.store.keep_keyed_write(kept)
    clock.advance(seconds=1)
    deleted = keyed_writes.prune_keyed_writes(ledger, tenant_id, older_than=clock.now, batch_size=3)
    assert deleted == 7
    assert all(ledger.store.keyed_write(tenant_id, OPERATION, f"k{i}") is None for i in range(7))
    with pytest.raises(ValidationError):
        keyed_writes.prune_keyed_writes(ledger, tenant_id, older_than=clock.now, batch_size=0)
