"""All tables at once: the core's, the budgets', the points', the cycles', the jobs', the
event feed's, the webhooks', the worker's and
the keyed set-up writes'.

Import ``metadata`` from here where every table must be known (Alembic's environment, the
test that compares the migrations with the tables); each schema module declares its own.
"""

from __future__ import annotations

from rewardledger.storage import (
    schema,
    schema_budgets,
    schema_cycles,
    schema_events,
    schema_jobs,
    schema_keyed,
    schema_points,
    schema_webhooks,
    schema_worker,
)
from rewardledger.storage.metadata import metadata

SCHEMA_MODULES = (
    schema,
    schema_budgets,
    schema_cycles,
    schema_points,
    schema_jobs,
    schema_events,
    schema_webhooks,
    schema_worker,
    schema_keyed,
)

__all__ = ["SCHEMA_MODULES", "metadata"]
