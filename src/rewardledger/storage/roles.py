"""The least-privilege PostgreSQL role the server and the CLI connect as.

Owns: creating the role (idempotent) and granting it what the application needs in the
current schema, and no more. Migrations run as the tables' owner; the application's role owns
nothing, so it cannot ALTER a table, disable its triggers or set ``session_replication_role``
(superusers only), and it has no UPDATE, DELETE or TRUNCATE on the append-only tables at all.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine

APPEND_ONLY_TABLES = (
    "transfers",
    "budget_corrections",
    "points_lot_moves",
    "cashback_movements",
    "debt_movements",
    "journal_seals",
)
DEFAULT_APP_ROLE = "rewardledger_app"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_app_role(engine: Engine, role: str = DEFAULT_APP_ROLE, *, login: bool = False) -> str:
    """Create ``role`` if missing and grant it DML on the current schema's tables (SELECT and
    INSERT only on the append-only ones). Run it again after every migration. Returns the
    schema granted on."""
    if engine.dialect.name != "postgresql":
        raise ValueError("database roles exist on PostgreSQL only; SQLite has no users")
    if not _NAME.fullmatch(role):
        raise ValueError(f"{role!r} is not a plain role name (lowercase letters, digits, '_')")
    kind = "LOGIN" if login else "NOLOGIN"
    with engine.begin() as connection:
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        connection.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {role} {kind} NOSUPERUSER NOCREATEDB NOCREATEROLE "
            "NOBYPASSRLS NOREPLICATION; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        connection.exec_driver_sql(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}'
        )
        # The event feed numbers outbox rows from a sequence (migration 0012_event_feed).
        connection.exec_driver_sql(
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}'
        )
        tables = ", ".join(f'"{schema}".{table}' for table in APPEND_ONLY_TABLES)
        connection.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}")
    return str(schema)
