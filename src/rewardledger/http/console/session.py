"""The console's sign-in: an API key checked once, then a signed session cookie.

Owns: who is looking at a console page and what they may do there.
- Sign-in checks the key with ``services.access.authenticate`` (the API's own check) and keeps
  only the key's id, tenant and a CSRF token in the session, never the secret. Every page
  looks the key up again (``find_api_key``), so a revoked key is signed out at its next click.
- The cookie is Starlette's ``SessionMiddleware``'s (itsdangerous-signed, HttpOnly), set with
  SameSite=Strict and scoped to ``/console``; its secret is REWARDLEDGER_CONSOLE_SECRET, or one
  generated once and kept (mode 0600) in the state folder, beside the demo key, so that every
  worker of a server signs alike.
- Every form carries the session's CSRF token; every POST is refused (403) without it.
- A page of another tenant than the session's is answered 404, as the API does (invariant 8).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request

from rewardledger.cli.demo_key import FILE_MODE, FOLDER_MODE, state_folder
from rewardledger.config import Settings
from rewardledger.domain.access import Principal, Role
from rewardledger.domain.errors import Forbidden, NotFound, Unauthorized
from rewardledger.http.throttle import AuthFailures
from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import authenticate

SECRET_FILE_NAME = "console-secret"  # noqa: S105 - a file name, not a secret
SECRET_BYTES = 32
CSRF_TOKEN_BYTES = 32
SESSION_COOKIE = "rewardledger_console"
SESSION_SECONDS_MAX = 8 * 3600  # a working day at a till, then sign in again
_KEY_FIELD_LENGTH_MAX = 200


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, with the token their forms must carry."""

    principal: Principal
    csrf: str

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def can_write(self) -> bool:
        return self.principal.can("write")

    @property
    def merchant_only(self) -> bool:
        return self.principal.role is Role.MERCHANT


class SignInNeeded(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


def signing_secret(settings: Settings) -> str:
    """REWARDLEDGER_CONSOLE_SECRET, else the state folder's, made on first use.

    Made in a temporary file then linked into place, so that workers starting together all end
    up reading the one that won.
    """
    if settings.console_secret is not None:
        return settings.console_secret.get_secret_value()
    folder = state_folder(settings.state_dir)
    path = folder / SECRET_FILE_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        _write_once(path, secrets.token_urlsafe(SECRET_BYTES))
    return path.read_text().strip()


def _write_once(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".console-secret-")
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when the session has none yet."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form: dict[str, str]) -> None:
    expected = request.session.get("csrf")
    presented = form.get("csrf", "")
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), presented.encode()
    ):
        raise Forbidden(
            "This form is out of date or was not sent by the console; reload the page and "
            "send it again."
        )


def sign_in(request: Request, ledger: Ledger, presented: str) -> Principal:
    """Check ``presented`` as the API would, then open a session for its key."""
    failures: AuthFailures = request.app.state.auth_failures
    client = request.client.host if request.client is not None else "unknown"
    failures.check(client)
    key = presented.strip()[:_KEY_FIELD_LENGTH_MAX]
    parts = key.split("_", 2)
    stored = ledger.store.find_api_key(parts[1]) if len(parts) == 3 else None
    try:
        principal = authenticate(ledger, stored.tenant_id if stored else "-", key)
    except (Unauthorized, NotFound):
        failures.record(client)
        raise Unauthorized("This API key is not valid; check it was copied in full.") from None
    csrf = csrf_token(request)
    request.session.clear()
    request.session.update({"tenant": principal.tenant_id, "key": principal.key_id, "csrf": csrf})
    return principal


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request, ledger: Ledger) -> Principal | None:
    """The principal of the session's key, if it is still valid."""
    key_id = request.session.get("key")
    if not isinstance(key_id, str):
        return None
    stored = ledger.store.find_api_key(key_id)
    if stored is None or stored.revoked_at is not None:
        request.session.clear()
        return None
    return Principal(stored.tenant_id, stored.key_id, Role(stored.role))


def viewer(request: Request, ledger: Ledger, tenant_id: str, capability: str) -> Viewer:
    """Who may see this page of ``tenant_id`` needing ``capability``; else raise."""
    principal = signed_in(request, ledger)
    if principal is None:
        raise SignInNeeded
    if principal.tenant_id != tenant_id:
        raise NotFound("tenant", tenant_id)
    if not principal.can(capability):
        raise Forbidden(
            f"A {principal.role.value} key cannot open this page; sign in with another key."
        )
    return Viewer(principal, csrf_token(request))
