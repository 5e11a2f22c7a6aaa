"""The console's session in process, on SQLite and PostgreSQL: the cookie's attributes, the
CSRF token every POST needs, the role a page asks for, and the signing secret kept once."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.events import webhooks
from rewardledger.http.app import create_app
from rewardledger.http.console.session import SECRET_FILE_NAME, SESSION_COOKIE, signing_secret
from rewardledger.services import access
from tests.http.support import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def console(ledger: Ledger, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(ledger, Settings(state_dir=tmp_path))
    with TestClient(app) as client:
        yield client


def csrf_of(client: TestClient, path: str = "/console/signin") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, ledger: Ledger, tenant_id: str, role: str) -> None:
    key = access.issue_key(ledger, tenant_id, role).key
    answer = client.post("/console/signin", data={"key": key, "csrf": csrf_of(client)})
    assert answer.status_code == 200, answer.text


def test_the_session_cookie_is_httponly_samesite_strict_and_scoped_to_the_console(
    console: TestClient, ledger: Ledger, tenant_id: str
) -> None:
    key = access.issue_key(ledger, tenant_id, "reader").key
    token = csrf_of(console)
    answer = console.post(
        "/console/signin", data={"key": key, "csrf": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/t/{tenant_id}"
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert key.split("_", 2)[2].lower() not in cookie  # the secret is never in the cookie


def test_a_post_without_the_sessions_csrf_token_is_refused(
    console: TestClient, ledger: Ledger, tenant_id: str
) -> None:
    key = access.issue_key(ledger, tenant_id, "admin").key
    csrf_of(console)
    refused = console.post("/console/signin", data={"key": key, "csrf": "forged"})
    assert refused.status_code == 403
    sign_in(console, ledger, tenant_id, "admin")
    forged = console.post(f"/console/t/{tenant_id}/integrity", data={"csrf": "forged"})
    assert forged.status_code == 403
    token = csrf_of(console, f"/console/t/{tenant_id}")
    ran = console.post(f"/console/t/{tenant_id}/integrity", data={"csrf": token})
    assert ran.status_code == 200
    assert "verified" in ran.text


def test_a_wrong_key_is_refused_and_opens_no_session(console: TestClient, tenant_id: str) -> None:
    answer = console.post(
        "/console/signin", data={"key": "rlk_0000_not-a-key", "csrf": csrf_of(console)}
    )
    assert answer.status_code == 401
    assert "not valid" in answer.text
    assert console.get(f"/console/t/{tenant_id}", follow_redirects=False).status_code == 303


def test_a_reader_cannot_run_the_integrity_check_and_a_merchant_sees_only_the_till(
    console: TestClient, ledger: Ledger, tenant_id: str
) -> None:
    sign_in(console, ledger, tenant_id, "reader")
    token = csrf_of(console, f"/console/t/{tenant_id}")
    refused = console.post(f"/console/t/{tenant_id}/integrity", data={"csrf": token})
    assert refused.status_code == 403
    console.cookies.clear()
    sign_in(console, ledger, tenant_id, "merchant")
    assert console.get(f"/console/t/{tenant_id}").status_code == 403
    assert console.get(f"/console/t/{tenant_id}/till").status_code == 200


def test_the_signing_secret_is_made_once_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    first = signing_secret(settings)
    assert signing_secret(settings) == first
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / SECRET_FILE_NAME).stat().st_mode) == 0o600
    configured = Settings(state_dir=tmp_path, console_secret="s" * 40)
    assert signing_secret(configured) == "s" * 40


def test_the_webhooks_controls_need_the_csrf_token_and_an_admin_key(
    console: TestClient, ledger: Ledger, tenant_id: str
) -> None:
    added = webhooks.add_endpoint(
        ledger, tenant_id, url="https://example.com/hooks", event_types=["*"]
    )
    eid = added.endpoint.endpoint_id
    disable = f"/console/t/{tenant_id}/webhooks/{eid}/enabled"
    sign_in(console, ledger, tenant_id, "writer")
    token = csrf_of(console, f"/console/t/{tenant_id}/webhooks/{eid}")
    assert console.post(disable, data={"csrf": token, "enabled": "false"}).status_code == 403
    console.cookies.clear()
    sign_in(console, ledger, tenant_id, "admin")
    assert console.post(disable, data={"csrf": "forged", "enabled": "false"}).status_code == 403
    assert webhooks.get_endpoint(ledger, tenant_id, eid).enabled
    token = csrf_of(console, f"/console/t/{tenant_id}/webhooks/{eid}")
    assert console.post(disable, data={"csrf": token, "enabled": "false"}).status_code == 200
    assert not webhooks.get_endpoint(ledger, tenant_id, eid).enabled
    rotated = console.post(f"/console/t/{tenant_id}/webhooks/{eid}/rotate", data={"csrf": token})
    assert rotated.status_code == 200
    assert 'id="new-secret">whsec_' in rotated.text
    assert "whsec_" not in console.get(f"/console/t/{tenant_id}/webhooks/{eid}").text
    bad_since = console.post(
        f"/console/t/{tenant_id}/webhooks/{eid}/redeliver", data={"csrf": token, "since": "soon"}
    )
    assert bad_since.status_code == 422
    assert console.get(f"/console/t/{tenant_id}/webhooks/ep_missing").status_code == 404
