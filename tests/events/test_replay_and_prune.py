"""Replay from a cursor over HTTP and with ``rewardledger events tail`` (a subprocess) shows the
same envelopes; pruning deletes only old events every sink has passed. Both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta

import pytest

from rewardledger.config import Settings
from rewardledger.domain.access import Role
from rewardledger.domain.errors import ValidationError
from rewardledger.events import STORE, StoredEvent, read_events, relay_batch
from rewardledger.events.replay import replay
from rewardledger.events.retention import prune_events
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import issue_key
from tests.builders import FakeClock, fund, programme
from tests.events.conftest import settle_feed
from tests.http.support import ADMIN_TOKEN, TestClient

TAIL_TIMEOUT_SECONDS = 120


def _tail(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    return subprocess.run(
        [sys.executable, "-m", "rewardledger.cli.main", "--db", db_url, "events", "tail", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=TAIL_TIMEOUT_SECONDS,
        check=False,
    )


def test_the_http_route_and_events_tail_show_the_same_events_from_a_cursor(
    ledger: Ledger, tenant_id: str, db_url: str
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    for _ in range(3):
        fund(ledger, p, p.wallets[0], "1.00")
    settle_feed(ledger, tenant_id)
    key = issue_key(ledger, tenant_id, Role.READER.value).key
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/v1/tenants/{tenant_id}/events"
    with TestClient(create_app(ledger, Settings(admin_token=ADMIN_TOKEN))) as client:
        first = client.get(url, params={"limit": 2}, headers=headers)
        assert first.status_code == 200, first.text
        cursor = first.json()["next_cursor"]
        rest = client.get(url, params={"after": cursor, "limit": 500}, headers=headers).json()
        only = client.get(
            url, params={"type": "transfer.posted", "limit": 500}, headers=headers
        ).json()
        unknown = client.get(url, params={"type": "no.such"}, headers=headers)
    assert unknown.status_code == 422
    over_http = first.json()["events"] + rest["events"]
    assert over_http == replay(ledger, tenant_id, limit=500).events
    assert [e["type"] for e in only["events"]] == ["transfer.posted"] * 3

    tailed = _tail(db_url, "--tenant", tenant_id)
    assert tailed.returncode == 0, tailed.stderr
    assert [json.loads(line) for line in tailed.stdout.splitlines()] == over_http
    assert f"cursor {rest['next_cursor']}" in tailed.stderr
    from_cursor = _tail(db_url, "-t", tenant_id, "--after", cursor, "--type", "transfer.posted")
    assert [json.loads(line) for line in from_cursor.stdout.splitlines()] == [
        e for e in rest["events"] if e["type"] == "transfer.posted"
    ]


def test_events_tail_refuses_an_unknown_type(ledger: Ledger, tenant_id: str, db_url: str) -> None:
    tailed = _tail(db_url, "-t", tenant_id, "--type", "no.such")
    assert tailed.returncode == 2
    assert "validation_error" in tailed.stderr


def _relay_to(ledger: Ledger, tenant_id: str, sink: str, count: int) -> None:
    def deliver(events: Sequence[StoredEvent]) -> None:
        pass

    relay_batch(ledger, tenant_id, sink, deliver, batch_size=count)


def test_prune_deletes_only_old_events_that_every_sink_has_passed(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    for _ in range(5):
        fund(ledger, p, p.wallets[0], "1.00")
    written = settle_feed(ledger, tenant_id)
    later = clock.now + timedelta(days=1)
    assert prune_events(ledger, tenant_id, older_than=later) == 0  # no sink has delivered
    _relay_to(ledger, tenant_id, "ahead", written)
    _relay_to(ledger, tenant_id, "behind", 4)
    before = read_events(ledger, tenant_id, limit=500).events
    assert prune_events(ledger, tenant_id, older_than=clock.now) == 0  # none old enough
    assert prune_events(ledger, tenant_id, older_than=later, batch_size=3) == 4
    kept = read_events(ledger, tenant_id, limit=500).events
    assert kept == before[4:]
    assert ledger.extension(STORE).sink_positions(tenant_id)["behind"] == before[3].at
    _relay_to(ledger, tenant_id, "behind", written)
    assert prune_events(ledger, tenant_id, older_than=later) == written - 4
    assert read_events(ledger, tenant_id, limit=500).events == []
    with pytest.raises(ValidationError):
        prune_events(ledger, tenant_id, older_than=later, batch_size=0)


def test_events_tail_follow_shows_new_events_and_ends_cleanly_on_ctrl_c(
    ledger: Ledger, tenant_id: str, db_url: str
) -> None:
    p = programme(ledger, tenant_id, wallets=1)
    written = settle_feed(ledger, tenant_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    command = [sys.executable, "-m", "rewardledger.cli.main", "--db", db_url, "events", "tail"]
    follow = ["-t", tenant_id, "--follow", "--interval", "0.1"]
    with subprocess.Popen(
        [*command, *follow], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as tail:
        assert tail.stdout is not None
        seen = [json.loads(tail.stdout.readline()) for _ in range(written)]
        fund(ledger, p, p.wallets[0], "1.00")
        arrived = json.loads(tail.stdout.readline())
        tail.send_signal(signal.SIGINT)
        _, errors = tail.communicate(timeout=TAIL_TIMEOUT_SECONDS)
    assert tail.returncode == 0, errors
    assert "Traceback" not in errors
    assert arrived["type"] == "transfer.posted"
    assert [*seen, arrived] == replay(ledger, tenant_id, limit=500).events
