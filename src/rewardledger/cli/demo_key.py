"""``serve``'s demo access: the demo tenant seeded on an empty database, and its one admin key.

Owns: minting the demo key once per database and keeping it in a local file that only its
owner may read (mode 0600), so that every later start shows the same key again. Keys are stored
hashed, so the file is the only place the key can be read back from:
- SQLite: beside the database file, ``<file>.demo-key`` (``./rewardledger.db.demo-key``);
- PostgreSQL: in the state folder, ``demo-key-<host>-<port>-<database>-<hash of the URL>``;
- the state folder is ``REWARDLEDGER_STATE_DIR``, else ``$XDG_STATE_HOME/rewardledger``, else
  ``~/.local/state/rewardledger``; when ``REWARDLEDGER_STATE_DIR`` is set, SQLite's file goes
  there too.
The key's id is derived from the tenant (``demo.demo_key_id``), so a database never holds two,
whatever happens to the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rewardledger.cli import output
from rewardledger.domain.access import Role
from rewardledger.domain.errors import NotFound, Unauthorized
from rewardledger.domain.tenants import Tenant
from rewardledger.ledger.engine import Ledger
from rewardledger.services import access, demo, demo_programme
from rewardledger.services.access import IssuedKey

STATE_DIR_VARIABLE = "REWARDLEDGER_STATE_DIR"
DEMO_KEY_LABEL = "demo key minted by serve"
FILE_MODE = 0o600
FOLDER_MODE = 0o700
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class DemoAccess:
    """The demo tenant and its key as ``serve`` shows them (``key`` is None when it cannot be
    shown: minted at an earlier start whose file is gone)."""

    tenant: Tenant
    key: IssuedKey | None
    path: Path
    minted_now: bool


def state_folder(configured: Path | None) -> Path:
    """``REWARDLEDGER_STATE_DIR`` (``configured``, from Settings), else the platform's."""
    if configured is not None:
        return configured.expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")  # the platform's, not one of rewardledger's settings
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "rewardledger"


def key_file(sqlite_file: str | None, shown_url: str, state_dir: Path | None) -> Path:
    """Where the demo key of the database at ``shown_url`` is kept.

    ``sqlite_file`` is the SQLite database's path (None on PostgreSQL); ``shown_url`` the URL
    with its password masked (so that a password never shapes a file name); ``state_dir`` is
    ``REWARDLEDGER_STATE_DIR`` if set.
    """
    digest = hashlib.sha256(shown_url.encode()).hexdigest()[:12]
    if sqlite_file is not None:
        database = Path(sqlite_file).expanduser()
        if state_dir is None:
            return database.with_name(database.name + ".demo-key")
        name = f"demo-key-sqlite-{database.name}-{digest}"
    else:
        rest = shown_url.split("://", 1)[-1].split("?", 1)[0]
        name = f"demo-key-{rest}-{digest}"
    return state_folder(state_dir) / _UNSAFE_NAME_CHARACTERS.sub("-", name).strip("-")


def demo_access(ledger: Ledger, path: Path) -> DemoAccess | None:
    """Seed the demo on an empty database; then the demo tenant's key: read back from ``path``,
    or minted (once per database) and written there."""
    if ledger.count_tenants() == 0:
        output.note("Empty database: seeding the demo programme (--no-demo to skip).")
        demo.seed(ledger, demo.SMALL)
    try:
        tenant = ledger.get_tenant(demo.DEMO_TENANT)
    except NotFound:
        output.note(
            f"This database has tenants but no {demo.DEMO_TENANT!r} tenant, so no demo key "
            "was issued; `rewardledger demo` creates it."
        )
        return None
    if demo_programme.seed_programme(ledger, tenant.id):  # a demo seeded by an older version
        output.note("Added the demo's budgets, points, redemptions and cycles.")
    known = _read_key(ledger, tenant.id, path)
    if known is not None:
        return DemoAccess(tenant, known, path, minted_now=False)
    key_id = demo.demo_key_id(tenant.id)
    if ledger.store.find_api_key(key_id) is not None:
        output.note(
            f"The demo key of this database was minted at an earlier start, and {path} that "
            "kept it is gone or holds another key; keys are stored hashed, so it cannot be "
            f"shown again. `rewardledger apikey create {tenant.id} --role admin` issues another."
        )
        return DemoAccess(tenant, None, path, minted_now=False)
    issued = access.issue_key(ledger, tenant.id, Role.ADMIN, DEMO_KEY_LABEL, key_id=key_id)
    try:
        _write_private(path, issued.key)
    except OSError as error:
        output.note(
            f"Could not keep the demo key in {path} ({error}): it is shown only at this start. "
            f"Set {STATE_DIR_VARIABLE} to a folder you can write to."
        )
    return DemoAccess(tenant, issued, path, minted_now=True)


def _read_key(ledger: Ledger, tenant_id: str, path: Path) -> IssuedKey | None:
    """The key kept at ``path``, if it is this database's demo key and still valid."""
    try:
        presented = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    key_id = demo.demo_key_id(tenant_id)
    if not presented.startswith(f"rlk_{key_id}_"):
        return None
    try:
        principal = access.authenticate(ledger, tenant_id, presented)
    except (Unauthorized, NotFound):
        return None
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)  # the file was widened since: keep it to its owner
    return IssuedKey(tenant_id, key_id, principal.role, DEMO_KEY_LABEL, presented)


def _write_private(path: Path, key: str) -> None:
    """Write ``key`` to ``path`` readable by its owner only, replacing it in one rename."""
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".demo-key-", dir=path.parent)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(key + "\n")
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
