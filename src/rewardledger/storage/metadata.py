"""The one ``MetaData`` every table is declared on, and its constraint naming convention.

``rewardledger.storage.tables`` imports every schema module, so that its ``metadata`` holds
all tables (what migrations and their test compare against).
"""

from __future__ import annotations

from sqlalchemy import MetaData

# Every key is a composite of text columns: on SQLite the tables are declared WITHOUT ROWID so
# that the key is the table itself rather than a second b-tree (fewer pages per commit; the
# posting benchmark gained 6 to 25 %). PostgreSQL ignores the option.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
