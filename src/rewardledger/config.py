"""Settings: the only reader of environment variables. Bad values fail at start-up.

REWARDLEDGER_DATABASE_URL   sqlite:///./rewardledger.db (default) or postgresql://...
REWARDLEDGER_ADMIN_TOKEN    enables POST /v1/tenants for the bearer of this token
REWARDLEDGER_HOST / _PORT   where ``rewardledger serve`` listens (127.0.0.1:8000)
REWARDLEDGER_SQL_SCHEMA     PostgreSQL schema of the seeds' views (migration 0005; see docs/sql.md)
REWARDLEDGER_STATE_DIR      where ``serve`` keeps the demo key (cli/demo_key.py says the default)
REWARDLEDGER_NATS_URL       the NATS server the event feed is relayed to (nats://127.0.0.1:4222)
REWARDLEDGER_NATS_STREAM    its JetStream stream, created if missing (REWARDLEDGER)
REWARDLEDGER_EVENT_RETENTION_DAYS  outbox rows older than this, passed by every sink, are pruned
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./rewardledger.db"
ADMIN_TOKEN_LENGTH_MIN = 16
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_NATS_STREAM = "REWARDLEDGER"
EVENT_RETENTION_DAYS_DEFAULT = 30
EVENT_RETENTION_DAYS_MAX = 3_650


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REWARDLEDGER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    admin_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    sql_schema: str | None = None
    state_dir: Path | None = None
    nats_url: str = DEFAULT_NATS_URL
    nats_stream: str = Field(default=DEFAULT_NATS_STREAM, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    event_retention_days: int = Field(
        default=EVENT_RETENTION_DAYS_DEFAULT, ge=1, le=EVENT_RETENTION_DAYS_MAX
    )

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError(
                "REWARDLEDGER_DATABASE_URL must be sqlite:///path/to/file.db or "
                "postgresql://user@host:5432/database"
            )
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        if not value.startswith(("nats://", "tls://")):
            raise ValueError("REWARDLEDGER_NATS_URL must be nats://host:4222 (or tls://host:4222)")
        return value

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < ADMIN_TOKEN_LENGTH_MIN:
            raise ValueError(
                f"REWARDLEDGER_ADMIN_TOKEN must be at least {ADMIN_TOKEN_LENGTH_MIN} characters"
            )
        return value
