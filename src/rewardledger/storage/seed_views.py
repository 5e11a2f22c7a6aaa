"""Where the seeds' SQL names live: the read-only views of migration 0006_seed_views.

Owns: the names of the six views and of ``validate_balance_integrity()``, and which schema
(PostgreSQL) or name prefix (SQLite) they are created under. Protects: two installations in
one PostgreSQL database (such as two test sessions, each in a schema of its own) never create
their views under the same name.

- PostgreSQL: the views live in a schema of their own, so that ``cashback_ledger`` and
  ``debt_ledger`` (the seeds' names) do not collide with the tables of the same names. The
  schema is ``REWARDLEDGER_SQL_SCHEMA`` when set; else ``rewards`` when the tables live in
  ``public`` (the usual case, and the seeds' name); else ``<tables' schema>_rewards``.
- SQLite has no schemas: the views are named ``rewards_<name>`` (``rewards.x`` becomes
  ``rewards_x`` in a ported query).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from rewardledger.config import Settings
from rewardledger.domain.errors import ValidationError

DEFAULT_SCHEMA = "rewards"
SQLITE_PREFIX = "rewards_"
VIEW_NAMES = (
    "fact_accumulations",
    "fact_balance_points",
    "v_ledger_summary",
    "user_redemptions",
    "cashback_ledger",
    "debt_ledger",
)
INTEGRITY_FUNCTION = "validate_balance_integrity"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(name: str) -> str:
    """A schema name the views may be created under: lower case, digits and underscores."""
    if not _IDENTIFIER.match(name):
        raise ValidationError(
            f"REWARDLEDGER_SQL_SCHEMA {name!r} is not a plain SQL name; use lower-case letters, "
            "digits and underscores (at most 63), starting with a letter or an underscore, "
            "such as rewards.",
            field="sql_schema",
        )
    return name


def derived_schema(tables_schema: str) -> str:
    """``rewards`` beside tables in ``public``; ``<schema>_rewards`` beside tables elsewhere."""
    if tables_schema == "public":
        return DEFAULT_SCHEMA
    return check_schema_name(f"{tables_schema}_{DEFAULT_SCHEMA}"[:63])


def views_schema(connection: Connection) -> str:
    """The PostgreSQL schema of the views for the tables ``connection`` sees (its
    ``current_schema()``): the setting when given, else derived from that schema."""
    configured = Settings().sql_schema
    if configured is not None:
        return check_schema_name(configured)
    current = connection.execute(text("SELECT current_schema()")).scalar_one()
    return derived_schema(str(current))


def view_name(dialect: str, schema: str, name: str) -> str:
    """How a query names a view: ``schema.name`` on PostgreSQL, ``rewards_name`` on SQLite."""
    if dialect == "postgresql":
        return f"{schema}.{name}"
    return f"{SQLITE_PREFIX}{name}"
