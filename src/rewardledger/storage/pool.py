"""The database connection pool's use, for the metrics (implements ``metrics.PoolUse``)."""

from __future__ import annotations

from sqlalchemy import Engine


class SqlPoolUse:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pool_use(self) -> tuple[int, int]:
        pool = self.engine.pool
        # A QueuePool counts both; a pool that keeps one connection per thread counts neither.
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        return (
            int(checked_out()) if callable(checked_out) else 0,
            int(size()) if callable(size) else 0,
        )
