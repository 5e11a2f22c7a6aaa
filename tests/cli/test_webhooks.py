"""``rewardledger webhooks ...``: an endpoint added, listed, shown, updated, rotated, its
deliveries listed (with their attempts, after a real pass to a real receiver), redelivered
and removed, from the command line."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.events.webhooks import deliver_due
from tests.cli.helpers import Cli
from tests.webhook_receiver import fan_out_everything, receiving


@pytest.fixture
def hooked(cli: Cli, tenant: str) -> str:
    assert cli("tenant", "create", tenant).exit_code == 0
    return tenant


def _json(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_endpoint_from_add_to_remove(cli: Cli, hooked: str) -> None:
    added = _json(cli, "webhooks", "add", "-t", hooked, "https://example.com/h", "-e", "a.b")
    assert added["secret"].startswith("whsec_")
    eid = added["endpoint_id"]
    assert [
        e["endpoint_id"] for e in _json(cli, "webhooks", "list", "-t", hooked)["endpoints"]
    ] == [eid]
    assert "secret" not in _json(cli, "webhooks", "show", "-t", hooked, eid)
    paused = _json(cli, "webhooks", "update", "-t", hooked, eid, "--disabled")
    assert paused["enabled"] is False
    rotated = _json(cli, "webhooks", "rotate", "-t", hooked, eid, "--overlap-seconds", "60")
    assert rotated["secret"] != added["secret"]
    assert _json(cli, "webhooks", "remove", "-t", hooked, eid)["removed"] is True
    missing = cli("webhooks", "show", "-t", hooked, eid)
    assert missing.exit_code == 1
    assert "not_found" in missing.output
    bad = cli("webhooks", "add", "-t", hooked, "ftp://example.com/x")
    assert bad.exit_code == 2


def test_deliveries_and_redelivery_from_the_command_line(
    cli: Cli, hooked: str, db_url: str
) -> None:
    with receiving([500], then=200) as receiver, httpx2.Client() as client:
        eid = _json(cli, "webhooks", "add", "-t", hooked, receiver.url)["endpoint_id"]
        with Ledger.open(db_url) as ledger:
            fan_out_everything(ledger, hooked)
            deliver_due(ledger, hooked, http_client=client)
            (delivery,) = _json(cli, "webhooks", "deliveries", "-t", hooked, eid)["deliveries"]
            assert delivery["status"] == "pending"
            assert [a["status_code"] for a in delivery["attempts"]] == [500]
            event_id = delivery["event_id"]
            again = _json(cli, "webhooks", "redeliver", "-t", hooked, eid, "--event-id", event_id)
            assert again["scheduled"] == 1
            deliver_due(ledger, hooked, http_client=client)
    assert receiver.event_ids() == [event_id, event_id]
    ranged = _json(
        cli, "webhooks", "redeliver", "-t", hooked, eid, "--since", "2000-01-01T00:00:00+00:00"
    )
    assert ranged["scheduled"] == 1
