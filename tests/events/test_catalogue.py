"""The event catalogue is complete: every event type the code writes is in it (a run of a wide
set of use cases, and a scan of the source for event type literals), every payload field
written is listed, and docs/events.md lists exactly the catalogue."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rewardledger.bootstrap import Ledger
from rewardledger.domain.points import Direction, ExpiryKind, ExpiryPolicy, Reason
from rewardledger.domain.transfers import PostPending, TransferRequest, VoidPending
from rewardledger.events.catalogue import CATALOGUE
from rewardledger.services import budgets, jobs, points, reconciliation, redemptions
from rewardledger.storage.schema import outbox
from tests import roundtrips
from tests.builders import FakeClock

SOURCE = Path(__file__).parents[2] / "src" / "rewardledger"
DOCS = Path(__file__).parents[2] / "docs" / "events.md"
TENANT = "catalogue"
# Calls whose first argument is an event type.
EMITTERS = {"event", "OutboxEvent"}


@pytest.fixture
def driven(tmp_path: Path) -> Iterator[Ledger]:
    clock = FakeClock()
    with Ledger.open(f"sqlite:///{tmp_path / 'catalogue.db'}", clock=clock) as ledger:
        _drive(ledger, clock)
        yield ledger


def _drive(ledger: Ledger, clock: FakeClock) -> None:
    roundtrips.setup(ledger, TENANT)
    for make in roundtrips.OPERATIONS.values():
        for call in make(ledger, TENANT, 2):
            call()
    points.configure(
        ledger,
        TENANT,
        "LUMIS",
        reasons=[Reason(Direction.EARN, "purchase", pending_until_activated=True)],
    )
    # An asset configured already changes its expiry through update_asset, not configure.
    points.update_asset(ledger, TENANT, "LUMIS", ExpiryPolicy(ExpiryKind.AFTER, days=30))
    points.earn(ledger, TENANT, "p1", "10", dtype="purchase", reference="order-1")
    points.earn(ledger, TENANT, "p1", "10", dtype="purchase", reference="order-2")
    points.activate(ledger, TENANT, "order-1")
    points.cancel_pending(ledger, TENANT, "order-2")
    points.remind_expiring(ledger, TENANT, days_ahead=30)
    ledger.transfer(
        TENANT, TransferRequest("hold-1", "core-a", "core-b", "USD", "0.01", pending=True)
    )
    ledger.transfer(
        TENANT, TransferRequest("hold-2", "core-a", "core-b", "USD", "0.01", pending=True)
    )
    ledger.submit(TENANT, [PostPending("hold-1"), VoidPending("hold-2")])
    ledger.transfer(
        TENANT,
        TransferRequest(
            "hold-3", "core-a", "core-b", "USD", "0.01", pending=True, timeout_seconds=1
        ),
    )
    budgets.create_budget(
        ledger, TENANT, "alerts", currency="USD", hard_cap="100.00", soft_cap="10.00"
    )
    topped = budgets.topup(
        ledger, TENANT, "alerts", amount="100.00", currency="USD", idempotency_key="a1"
    )
    budgets.reserve(ledger, TENANT, "alerts", reference="big", amount="50.00", currency="USD")
    budgets.charge(ledger, TENANT, "alerts", "big")
    budgets.correct(
        ledger,
        TENANT,
        "alerts",
        reverses=topped.transfer_id,
        amount="1.00",
        note="test",
        actor="ops",
        idempotency_key="c1",
    )
    budgets.reset_budget(ledger, TENANT, "alerts", idempotency_key="r1")
    redemptions.create(ledger, TENANT, "h1", offer_id="coffee", cost="2", reference="late")
    ledger.repair(TENANT, actor="ops")
    clock.advance(days=400)
    jobs.run_due_jobs(ledger, TENANT)
    reconciliation.reconcile_daily(ledger, TENANT)


def _written(ledger: Ledger) -> list[tuple[str, dict[str, object]]]:
    with ledger.store.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.event_type, outbox.c.payload))
        return [(row.event_type, dict(row.payload or {})) for row in rows]


def test_every_event_the_use_cases_write_is_in_the_catalogue_with_its_fields(
    driven: Ledger,
) -> None:
    written = _written(driven)
    unknown = sorted({t for t, _ in written} - CATALOGUE.keys())
    assert unknown == [], f"add these event types to events/catalogue.py: {unknown}"
    for event_type, payload in written:
        extra = set(payload) - set(CATALOGUE[event_type].fields)
        assert not extra, f"{event_type} writes fields the catalogue lacks: {sorted(extra)}"
    # The drive itself must stay wide: it reaches nearly the whole catalogue.
    missing = sorted(CATALOGUE.keys() - {t for t, _ in written})
    assert len(missing) <= 2, f"the drive no longer writes {missing}"


def _literal_types() -> set[str]:
    """Every event type a call of ``event``/``OutboxEvent`` names in the source, with the
    values of posting's EVENT_TYPES and the types ``write_changed`` is given; an f-string
    type is kept as the regular expression of what it can be."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                arguments = list(node.args[:1])
                if name == "write_changed":
                    arguments = [a for a in node.args if _is_event_literal(a)]
                if name in EMITTERS or name == "write_changed":
                    found.update(_pattern(a) for a in arguments if _pattern(a))
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "EVENT_TYPES" for t in node.targets
            ):
                assert isinstance(node.value, ast.Dict)
                found.update(_pattern(v) for v in node.value.values if _pattern(v))
    return found


def _is_event_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and bool(
        re.fullmatch(r"[a-z_]+\.[a-z_]+", str(node.value))
    )


def _pattern(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(
            re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in node.values
        )
    if isinstance(node, ast.IfExp):
        return f"(?:{_pattern(node.body)}|{_pattern(node.orelse)})"
    return ""  # a variable: the run of the use cases checks what it carries


def test_every_event_type_named_in_the_source_is_in_the_catalogue() -> None:
    patterns = _literal_types()
    assert len(patterns) > 20, "the scan no longer finds the emitters"
    for pattern in sorted(patterns):
        matching = [t for t in CATALOGUE if re.fullmatch(pattern, t)]
        assert matching, f"the source writes {pattern!r}, which is not in the catalogue"


def test_docs_events_lists_exactly_the_catalogue_with_versions_and_fields() -> None:
    rows = re.findall(
        r"^\| `([a-z_]+\.[a-z_]+)` \| (\d+) \| ([^|]*) \| ([^|]*) \|", DOCS.read_text(), re.M
    )
    documented = {t: (int(v), subject.strip(), fields.strip()) for t, v, subject, fields in rows}
    assert sorted(documented) == sorted(CATALOGUE)
    for event_type, kind in CATALOGUE.items():
        version, subject, fields = documented[event_type]
        assert version == kind.version, event_type
        assert subject == kind.subject, event_type
        listed = re.findall(r"`([a-z_]+)`", fields)
        assert listed == list(kind.fields), event_type
