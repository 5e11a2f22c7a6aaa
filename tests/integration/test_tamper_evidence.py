"""Tamper evidence: what the owner of the tables can do by plain SQL (lifting the append-only
triggers first), and how ``verify`` reports it: rows against their digests, accounts the
journal names, seals, and a seal head exported before the change."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from rewardledger.domain.errors import InsufficientFunds
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.storage import schema
from rewardledger.storage.journal_digest import row_digest
from tests.builders import FakeClock, fund, new_id, programme
from tests.conftest import owner_engine


def as_owner(ledger: Ledger, table: str, change: Callable[[Connection], None]) -> None:
    """Run ``change`` with ``table``'s UPDATE and DELETE triggers lifted, as its owner can."""
    engine = owner_engine(ledger)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            change(connection)
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            return
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            (table,),
        ).all()
        for name, _ in triggers:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        change(connection)
        for _, sql in triggers:
            connection.exec_driver_sql(sql)


def run(statement: str, **params: Any) -> Callable[[Connection], None]:
    return lambda connection: connection.execute(text(statement), params) and None


def checks(ledger: Ledger, tenant_id: str, head: str | None = None) -> set[tuple[str, str]]:
    report = ledger.verify(tenant_id, head=head)
    return {(d.check, d.subject) for d in report.discrepancies}


def funded(ledger: Ledger, tenant_id: str) -> tuple[str, str]:
    """A programme with one funding transfer; returns (that transfer's id, the wallet)."""
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "0.01")
    with owner_engine(ledger).connect() as connection:
        transfer_id = connection.execute(
            text("SELECT transfer_id FROM transfers WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar_one()
    return str(transfer_id), p.wallets[0]


@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "'other'"), ("reason", "'other'"), ("metadata", "NULL"), ("amount_minor", "1")],
)
def test_a_rewrite_of_any_column_is_reported(
    ledger: Ledger, tenant_id: str, column: str, value: str
) -> None:
    p = programme(ledger, tenant_id)
    transfer_id = new_id()
    ledger.transfer(
        tenant_id,
        TransferRequest(
            transfer_id,
            p.funding,
            p.wallets[0],
            "USD",
            "0.05",
            kind="fund",
            reason="welcome",
            metadata={"order": "o-1"},
        ),
    )
    assert ledger.verify(tenant_id).ok
    as_owner(
        ledger,
        "transfers",
        run(
            f"UPDATE transfers SET {column} = {value} WHERE tenant_id = :t AND transfer_id = :id",
            t=tenant_id,
            id=transfer_id,
        ),
    )
    found = checks(ledger, tenant_id)
    assert ("journal_row_matches_digest", transfer_id) in found


def test_deleted_accounts_are_reported(ledger: Ledger, tenant_id: str) -> None:
    _, wallet = funded(ledger, tenant_id)
    with owner_engine(ledger).begin() as connection:
        connection.execute(text("DELETE FROM accounts WHERE tenant_id = :t"), {"t": tenant_id})
    report = ledger.verify(tenant_id)
    assert not report.ok
    missing = {d.subject for d in report.discrepancies if d.check == "journal_accounts_exist"}
    assert missing == {"funding:USD", wallet}


def test_a_deleted_refused_row_is_reported_by_the_seal(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    p = programme(ledger, tenant_id)
    refused = new_id()
    with pytest.raises(InsufficientFunds):  # refused, and journaled as refused
        ledger.transfer(
            tenant_id, TransferRequest(refused, p.wallets[0], p.wallets[1], "USD", "1.00")
        )
    clock.advance(minutes=2)
    seal = ledger.seal(tenant_id)
    assert (seal.rows_count, seal.accounts_count) == (1, 3)
    assert ledger.verify(tenant_id, head=seal.head).ok
    as_owner(
        ledger,
        "transfers",
        run(
            "DELETE FROM transfers WHERE tenant_id = :t AND transfer_id = :id",
            t=tenant_id,
            id=refused,
        ),
    )
    report = ledger.verify(tenant_id, head=seal.head)
    fields = {(d.check, d.subject, d.field) for d in report.discrepancies}
    assert ("seal_matches_journal", "1", "rows_count") in fields
    assert ("exported_head_in_chain", seal.head, "head") in fields


def test_a_backdated_row_is_reported_by_the_seal(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    """A row slipped into a sealed interval, even with a correct digest, breaks the seal."""
    transfer_id, _ = funded(ledger, tenant_id)
    clock.advance(minutes=2)
    seal = ledger.seal(tenant_id)
    content = [c.name for c in schema.transfers.columns if c.name != "digest"]

    def copy_as_new_row(connection: Connection) -> None:
        row = connection.execute(
            schema.transfers.select().where(
                schema.transfers.c.tenant_id == tenant_id,
                schema.transfers.c.transfer_id == transfer_id,
            )
        ).one()
        values = dict(row._mapping)
        values.update(transfer_id="forged", error_code="refused", rejection={"x": 1})
        values.update(debit_entry_seq=None, credit_entry_seq=None)
        values.update(debit_balance_after=None, credit_balance_after=None)
        values["digest"] = row_digest(tuple(values[name] for name in content))
        connection.execute(schema.transfers.insert().values(**values))

    as_owner(ledger, "transfers", copy_as_new_row)
    found = checks(ledger, tenant_id, head=seal.head)
    assert ("journal_row_matches_digest", "forged") not in found  # its digest is right
    assert ("seal_matches_journal", "1") in found
    assert ("exported_head_in_chain", seal.head) in found


def test_a_rewrite_that_recomputes_digests_and_seals_is_caught_by_the_exported_head(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    transfer_id, _ = funded(ledger, tenant_id)
    clock.advance(minutes=2)
    exported = ledger.seal(tenant_id).head
    content = [c.name for c in schema.transfers.columns if c.name != "digest"]

    def rewrite_with_digest(connection: Connection) -> None:
        key = (schema.transfers.c.tenant_id == tenant_id) & (
            schema.transfers.c.transfer_id == transfer_id
        )
        connection.execute(schema.transfers.update().where(key).values(kind="other"))
        row = connection.execute(schema.transfers.select().where(key)).one()
        digest = row_digest(tuple(row._mapping[name] for name in content))
        connection.execute(schema.transfers.update().where(key).values(digest=digest))

    as_owner(ledger, "transfers", rewrite_with_digest)
    found = checks(ledger, tenant_id)
    assert ("journal_row_matches_digest", transfer_id) not in found
    assert ("seal_matches_journal", "1") in found  # the stored seal still tells
    as_owner(
        ledger, "journal_seals", run("DELETE FROM journal_seals WHERE tenant_id = :t", t=tenant_id)
    )
    ledger.seal(tenant_id)  # the owner seals the rewritten journal afresh
    assert ledger.verify(tenant_id).ok  # nothing inside the database tells any more...
    found = checks(ledger, tenant_id, head=exported)
    assert ("exported_head_in_chain", exported) in found  # ...but the exported head does


def test_seals_chain_and_an_untouched_journal_stays_clean(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "1.00")
    clock.advance(minutes=2)
    first = ledger.seal(tenant_id)
    fund(ledger, p, p.wallets[1], "2.00")
    unsealed = ledger.seal(tenant_id)  # within the margin: the new row waits for the next seal
    assert unsealed.rows_count == 0
    clock.advance(minutes=2)
    third = ledger.seal(tenant_id)
    assert (first.seal_seq, third.seal_seq, third.rows_count) == (1, 3, 1)
    assert len({first.head, unsealed.head, third.head}) == 3
    for head in (first.head, third.head):
        assert ledger.verify(tenant_id, head=head).ok
    assert not ledger.verify(tenant_id, head="0" * 64).ok
    assert json.dumps(third.head)  # a plain hex string, ready to export
