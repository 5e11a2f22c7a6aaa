"""Append-only tables, for the migrations: triggers that refuse UPDATE and DELETE on both
engines (and TRUNCATE on PostgreSQL), so that invariant 6 holds for plain SQL too.

Every append-only table (the journal, budget corrections, lot moves, cycle movements) is made
so here, by one definition, with the message its owner chose.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


def refuse_changes(function: str, tables: Sequence[str], message: str) -> None:
    """Make ``tables`` append-only. On PostgreSQL the trigger function is called ``function``;
    the triggers are ``<table>_append_only`` and ``<table>_no_truncate`` there, and
    ``<table>_no_update`` and ``<table>_no_delete`` on SQLite."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
CREATE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{message} (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
"""
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        return
    for table in tables:
        for statement in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{statement.lower()} BEFORE {statement} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message} ({statement} refused)'); END"
            )
