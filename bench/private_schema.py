"""A PostgreSQL schema of a benchmark's own: it never meets another checkout's tables (or
their migrations) in the same database, and it is dropped afterwards, with the schema of the
seeds' views that the migrations made beside it (``storage.seed_views``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from rewardledger.storage.seed_views import derived_schema


@contextmanager
def private_schema(url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(``url`` on a new schema named ``<prefix>_<hex>``, that name); dropped on exit."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            drop_schema(connection, schema)


def drop_schema(connection: psycopg.Connection[Any], schema: str) -> None:
    """Drop ``schema`` and the schema migration 0006 made beside it for the seeds' views."""
    connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    views = sql.Identifier(derived_schema(schema))
    connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(views))
