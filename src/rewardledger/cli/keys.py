"""``rewardledger apikey``: issue, list, revoke and rotate a tenant's API keys.

Owns: the commands' arguments and JSON output. The work is ``services.access`` (issuing) and
``services.api_keys`` (the rest); a secret is printed only by the command that mints it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rewardledger.cli import output
from rewardledger.cli.context import ledger_of
from rewardledger.domain.access import Role, StoredApiKey
from rewardledger.domain.limits import (
    PAGE_SIZE_MAX,
    ROTATION_OVERLAP_DEFAULT_SECONDS,
    ROTATION_OVERLAP_MAX_SECONDS,
)
from rewardledger.services import access, api_keys

apikey_app = typer.Typer(help="Issue, list, revoke and rotate API keys.", no_args_is_help=True)

TenantArgument = Annotated[str, typer.Argument(metavar="TENANT", help="The tenant the key opens.")]
KeyIdArgument = Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id.")]
_SHOWN_ONCE = "The API key is shown only this once; store it now."


def stored_json(stored: StoredApiKey) -> dict[str, Any]:
    def instant(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "key_id": stored.key_id,
        "role": stored.role,
        "label": stored.label,
        "created_at": instant(stored.created_at),
        "revoked_at": instant(stored.revoked_at),
        "expires_at": instant(stored.expires_at),
        "last_used_at": instant(stored.last_used_at),
    }


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    tenant: TenantArgument,
    role: Annotated[Role, typer.Option(help="What the key may do.", show_default=False)],
    label: Annotated[
        str | None, typer.Option(metavar="L", help="A note saying who or what holds the key.")
    ] = None,
) -> None:
    """Issue an API key for a tenant and print it as JSON (the key is shown only this once).

    Roles: admin (everything in the tenant), writer (accounts, transfers and reads), reader
    (reads), merchant (validates redemption codes and reads redemptions).
    """
    with ledger_of(ctx) as ledger:
        issued = access.issue_key(ledger, tenant, role.value, label)
    output.emit_json(output.key_json(issued))
    output.note(_SHOWN_ONCE)


@apikey_app.command("list")
def apikey_list(
    ctx: typer.Context,
    tenant: TenantArgument,
    limit: Annotated[int, typer.Option(min=1, max=PAGE_SIZE_MAX, help="Keys per page.")] = (
        PAGE_SIZE_MAX
    ),
    cursor: Annotated[
        str | None, typer.Option(help="The next_cursor of the previous page.")
    ] = None,
) -> None:
    """List a tenant's keys as JSON (never their secrets), with when each was last used."""
    with ledger_of(ctx) as ledger:
        page = api_keys.list_keys(ledger, tenant, cursor=cursor, limit=limit)
    output.emit_json({"keys": [stored_json(k) for k in page.keys], "next_cursor": page.next_cursor})


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context, tenant: TenantArgument, key_id: KeyIdArgument) -> None:
    """Revoke a key: every server refuses it (401) from its next request on."""
    with ledger_of(ctx) as ledger:
        stored = api_keys.revoke(ledger, tenant, key_id)
    output.emit_json(stored_json(stored))


@apikey_app.command("rotate")
def apikey_rotate(
    ctx: typer.Context,
    tenant: TenantArgument,
    key_id: KeyIdArgument,
    overlap_seconds: Annotated[
        int,
        typer.Option(
            min=0,
            max=ROTATION_OVERLAP_MAX_SECONDS,
            help="How long the old key keeps working beside the new one.",
        ),
    ] = ROTATION_OVERLAP_DEFAULT_SECONDS,
) -> None:
    """Mint a new key with the old one's role and label; the old one ends after the overlap."""
    with ledger_of(ctx) as ledger:
        rotation = api_keys.rotate(ledger, tenant, key_id, overlap_seconds=overlap_seconds)
    new = {**stored_json(rotation.new.stored), "key": rotation.new.key}
    output.emit_json({"new": new, "old": stored_json(rotation.old)})
    output.note(_SHOWN_ONCE)
