"""Tables of the worker (migration 0014_worker creates the same).

Owns: ``worker_runs``, when each step of a tenant is next due and which worker holds it. A
worker claims a due row by writing its id and a lease into it (``storage.worker_runs``);
while the lease runs no other worker takes the row, and when it has run out (the worker died)
any worker may.
"""

from __future__ import annotations

from rewardledger.domain.limits import JOB_STEP_LENGTH_MAX, WORKER_ID_LENGTH_MAX
from rewardledger.storage.metadata import instant, key, string, tenant_table

worker_runs = tenant_table(
    "worker_runs",
    key("step", JOB_STEP_LENGTH_MAX),
    instant("next_run_at"),
    string("claimed_by", WORKER_ID_LENGTH_MAX, nullable=True),
    instant("lease_until", nullable=True),
)
