"""The storage the due jobs need: ``JobStore`` and its ``STORE`` port.

Owns: the protocol the due jobs record and resolve their failures through
(``storage.jobs.SqlJobStore`` implements it, wired in ``rewardledger.bootstrap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from rewardledger.domain.jobs import FailureQuery, JobFailure
from rewardledger.ledger.extensions import Port
from rewardledger.ledger.storage_unit import StorageUnit


class JobStore(Protocol):
    """What the due jobs need of storage (implemented in ``storage.jobs``)."""

    def record_failure(
        self, unit: StorageUnit, step: str, code: str, message: str, now: datetime
    ) -> int: ...
    def resolve(self, unit: StorageUnit, steps: Sequence[str], now: datetime) -> int: ...
    def open_steps(self, tenant_id: str) -> set[str]: ...
    def failures(self, tenant_id: str, wanted: FailureQuery) -> list[JobFailure]: ...


STORE: Port[JobStore] = Port("jobs")
