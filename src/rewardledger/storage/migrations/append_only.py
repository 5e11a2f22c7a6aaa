"""Append-only tables, for the migrations: triggers that refuse UPDATE and DELETE on both
engines (and TRUNCATE on PostgreSQL), so that invariant 6 holds for plain SQL too.

Every append-only table (the journal, budget corrections, lot moves, cycle movements) is made
so here, by one definition, with the message its owner chose.
"""

from __future__ import annotations

import re
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


REPLACE_REFUSED = "append-only: an existing row cannot be replaced"


UniqueKey = tuple[str, Sequence[str], str]
"""A unique key: its name, its columns, and the WHERE of a partial index ("" for a full one),
written on the bare column names."""


def refuse_replace(table: str, keys: Sequence[UniqueKey]) -> None:
    """On SQLite, refuse an INSERT whose unique key an existing row of ``table`` holds.

    ``INSERT OR REPLACE`` (and ``REPLACE``) deletes the rows in its way and inserts anew, and
    its deletes fire no DELETE trigger unless the connection turned ``recursive_triggers`` on;
    so a trigger checks every unique key before the insert, whatever the connection. A partial
    key's condition applies to the new row (its columns prefixed with ``NEW.``) and to the rows
    it would meet.

    The message starts as SQLite's own for the key (``UNIQUE constraint failed: t.a, t.b``),
    so that a duplicate id is still told apart from other failures; PostgreSQL needs nothing,
    since an upsert's UPDATE is refused by the UPDATE trigger there.
    """
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, columns, condition in keys:
        match = " AND ".join(f"{column} = NEW.{column}" for column in columns)
        listed = ", ".join(f"{table}.{column}" for column in columns)
        when = ""
        if condition:
            when = re.sub(r"\b([a-z_]+)\b(?= IS)", r"NEW.\1", condition) + " AND "
            match = f"{match} AND {condition}"
        # Names and conditions are this package's constants, never input.
        exists = f"EXISTS (SELECT 1 FROM {table} WHERE {match})"  # noqa: S608
        op.execute(
            f"CREATE TRIGGER {table}_no_replace_{name} BEFORE INSERT ON {table} "
            f"WHEN {when}{exists} BEGIN SELECT RAISE(ABORT, "
            f"'UNIQUE constraint failed: {listed} ({REPLACE_REFUSED})'); END"
        )
